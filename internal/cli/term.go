package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// palette colours text only when the output is a terminal and NO_COLOR is unset.
type palette struct{ on bool }

func newPalette(w io.Writer) palette {
	return palette{on: isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"}
}

func (p palette) wrap(code, s string) string {
	if !p.on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
func (p palette) bold(s string) string  { return p.wrap("1", s) }
func (p palette) dim(s string) string   { return p.wrap("2", s) }
func (p palette) green(s string) string { return p.wrap("32", s) }
func (p palette) red(s string) string   { return p.wrap("31", s) }
func (p palette) cyan(s string) string  { return p.wrap("36", s) }

// progressBar draws "\r 45% [=========>          ] 4.5k/10k  1.2k rec/s  ETA 4s"
// on a terminal, at most ten times a second; elsewhere it stays silent.
type progressBar struct {
	mu      sync.Mutex
	w       io.Writer
	total   int64
	unit    string // "rec" or "B"
	start   time.Time
	last    time.Time
	enabled bool
	drawn   bool
}

func newProgressBar(w io.Writer, total int64, unit string) *progressBar {
	return &progressBar{w: w, total: total, unit: unit, start: time.Now(), enabled: isTerminal(w) && total > 0}
}

func (p *progressBar) update(done int64) {
	if p == nil || !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done < p.total {
		return
	}
	p.last = now
	io.WriteString(p.w, "\r"+renderProgress(done, p.total, now.Sub(p.start), p.unit, 30))
	p.drawn = true
}

func (p *progressBar) finish() {
	if p == nil || !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		io.WriteString(p.w, "\r\x1b[K")
	}
}

// renderProgress is the bar's text, separated from drawing for tests.
func renderProgress(done, total int64, elapsed time.Duration, unit string, width int) string {
	frac := 0.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	filled := int(frac * float64(width))
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	eta := "--"
	if rate > 0 && done < total {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
	} else if done >= total {
		eta = "0s"
	}
	return fmt.Sprintf("%3.0f%% [%s] %s/%s  %s/s  ETA %s", frac*100, bar, human(float64(done), unit), human(float64(total), unit), human(rate, unit), eta)
}

// human renders n with k/M/G suffixes (binary for bytes).
func human(n float64, unit string) string {
	base, suffixes := 1000.0, []string{"", "k", "M", "G", "T"}
	if unit == "B" {
		base, suffixes = 1024.0, []string{"", "Ki", "Mi", "Gi", "Ti"}
	}
	i := 0
	for n >= base && i < len(suffixes)-1 {
		n /= base
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", n, unit)
	}
	return fmt.Sprintf("%.1f %s%s", n, suffixes[i], unit)
}
