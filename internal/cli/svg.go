package cli

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// writeLatencySVG draws a latency histogram (log-scale x axis, one bar per
// bucket) with the p50, p99 and p99.9 marked, as a self-contained SVG.
func writeLatencySVG(w io.Writer, title string, s *latencySummary, buckets []histBucket) {
	const (
		width, height = 900, 460
		left, right   = 70, 30
		top, bottom   = 50, 70
	)
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
	if len(buckets) == 0 || s == nil {
		b.WriteString("</svg>\n")
		io.WriteString(w, b.String())
		return
	}
	lo, hi := buckets[0].LowMs, buckets[len(buckets)-1].HighMs
	xOf := func(ms float64) float64 {
		if ms <= lo {
			return float64(left)
		}
		return float64(left) + pw*math.Log(ms/lo)/math.Log(hi/lo)
	}
	var maxCount int64 = 1
	for _, bk := range buckets {
		maxCount = max(maxCount, bk.Count)
	}
	// axes
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top+int(ph), left+int(pw), top+int(ph))
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top, left, top+int(ph))
	// y ticks
	for i := 0; i <= 4; i++ {
		y := float64(top) + ph - ph*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", left, y, left+int(pw), y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%d</text>`+"\n", left-6, y+4, maxCount*int64(i)/4)
	}
	// bars
	for _, bk := range buckets {
		if bk.Count == 0 {
			continue
		}
		x0, x1 := xOf(bk.LowMs), xOf(bk.HighMs)
		h := ph * float64(bk.Count) / float64(maxCount)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#4a90d9"><title>%.3f–%.3f ms: %d</title></rect>`+"\n",
			x0, float64(top)+ph-h, math.Max(x1-x0-1, 1), h, bk.LowMs, bk.HighMs, bk.Count)
	}
	// x ticks at decades and halves
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			x := xOf(v)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", x, float64(top)+ph, x, float64(top)+ph+5)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, float64(top)+ph+18, trimFloat(v))
		}
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">latency (ms, log scale)</text>`+"\n", float64(left)+pw/2, height-20)
	fmt.Fprintf(&b, `<text x="16" y="%.1f" text-anchor="middle" transform="rotate(-90 16 %.1f)">records</text>`+"\n", float64(top)+ph/2, float64(top)+ph/2)
	// percentile markers
	for i, m := range []struct {
		name  string
		v     float64
		color string
	}{{"p50", s.P50, "#2a9d4a"}, {"p99", s.P99, "#e08a00"}, {"p99.9", s.P999, "#d0342c"}, {"max", s.Max, "#555"}} {
		x := xOf(m.v)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="5,3"/>`+"\n", x, top, x, float64(top)+ph, m.color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="%s" text-anchor="middle">%s %s ms</text>`+"\n", x, top-6-(i%2)*13, m.color, m.name, trimFloat(m.v))
	}
	b.WriteString("</svg>\n")
	io.WriteString(w, b.String())
}

func trimFloat(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	default:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
	}
}
