package cli

// kafka-dump-log: reads Sluice's segment files offline, printing them as
// Kafka's DumpLogSegments does (.log batches and records, .index and
// .timeindex entries). It opens files only; no broker is needed.

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/batch"
)

type dumpLogOpts struct {
	files         []string
	printData     bool
	deepIteration bool
	maxBytes      int
}

func newDumpLogCmd() *cobra.Command {
	o := &dumpLogOpts{}
	cmd := &cobra.Command{
		Use:   "kafka-dump-log",
		Short: "Print the batches and records of segment files (Kafka's kafka-dump-log.sh)",
		Example: `  kafka-dump-log.sh --files data/orders-0/00000000000000000000.log --print-data-log
  kafka-dump-log.sh --files data/orders-0/00000000000000000000.index`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(o.files) == 0 {
				return usageErrorf("Missing required argument \"[files]\"")
			}
			w := cmd.OutOrStdout()
			for _, f := range o.files {
				if err := dumpFile(w, f, o); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.files, "files", nil, "REQUIRED: The comma separated list of data and index log files to be dumped.")
	f.BoolVar(&o.printData, "print-data-log", false, "If set, printing the messages content when dumping data logs. Automatically set if any decoder option is specified.")
	f.BoolVar(&o.deepIteration, "deep-iteration", false, "If set, uses deep instead of shallow iteration. Automatically set if print-data-log is enabled.")
	f.IntVar(&o.maxBytes, "max-bytes", 1<<31-1, "Limit the amount of total batches read in bytes avoiding reading the whole .log file(s).")
	return kafkaTool(cmd, "Error: ")
}

func dumpFile(w io.Writer, path string, o *dumpLogOpts) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Dumping %s\n", path)
	base, _ := strconv.ParseInt(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), 10, 64)
	switch filepath.Ext(path) {
	case ".log":
		return dumpSegment(w, data, base, o)
	case ".index":
		for i := 0; i+8 <= len(data); i += 8 {
			rel, pos := binary.BigEndian.Uint32(data[i:]), binary.BigEndian.Uint32(data[i+4:])
			if i > 0 && rel == 0 && pos == 0 {
				break
			}
			fmt.Fprintf(w, "offset: %d position: %d\n", base+int64(rel), pos)
		}
	case ".timeindex":
		for i := 0; i+12 <= len(data); i += 12 {
			ts, rel := int64(binary.BigEndian.Uint64(data[i:])), binary.BigEndian.Uint32(data[i+8:])
			if i > 0 && ts == 0 && rel == 0 {
				break
			}
			fmt.Fprintf(w, "timestamp: %d offset: %d\n", ts, base+int64(rel))
		}
	default:
		return usageErrorf("%s: not a .log, .index or .timeindex file", path)
	}
	return nil
}

func dumpSegment(w io.Writer, data []byte, base int64, o *dumpLogOpts) error {
	fmt.Fprintf(w, "Log starting offset: %d\n", base)
	deep := o.deepIteration || o.printData
	pos := 0
	for pos < len(data) && pos < o.maxBytes {
		n := batch.BatchSize(data[pos:])
		if n <= 0 || pos+n > len(data) {
			fmt.Fprintf(w, "Found %d invalid bytes at the end of %d\n", len(data)-pos, pos)
			return nil
		}
		b := data[pos : pos+n]
		h, err := batch.ParseHeader(b)
		if err != nil {
			return fmt.Errorf("position %d: %w", pos, err)
		}
		horizon := "OptionalLong.empty"
		if hz, ok := h.DeleteHorizon(); ok {
			horizon = fmt.Sprintf("OptionalLong[%d]", hz)
		}
		tsType := "CreateTime"
		if h.LogAppendTime() {
			tsType = "LogAppendTime"
		}
		fmt.Fprintf(w, "baseOffset: %d lastOffset: %d count: %d baseSequence: %d lastSequence: %d producerId: %d producerEpoch: %d partitionLeaderEpoch: %d isTransactional: %t isControl: %t deleteHorizonMs: %s position: %d %s: %d size: %d magic: %d compresscodec: %s crc: %d isvalid: %t\n",
			h.BaseOffset, h.LastOffset(), h.NumRecords, h.BaseSequence, h.LastSequence(), h.ProducerID, h.ProducerEpoch,
			h.PartitionLeaderEpoch, h.Transactional(), h.Control(), horizon, pos, tsType, h.MaxTimestamp, n, h.Magic,
			h.Codec(), h.CRC, batch.CheckCRC(b) == nil)
		if deep {
			err := batch.ForEachRecord(b, func(r batch.Record) error {
				keys := make([]string, len(r.Headers))
				for i, hd := range r.Headers {
					keys[i] = hd.Key
				}
				seq := int32(-1)
				if h.BaseSequence >= 0 {
					seq = batch.IncrementSequence(h.BaseSequence, int32(r.Offset-h.BaseOffset))
				}
				fmt.Fprintf(w, "| offset: %d %s: %d keySize: %d valueSize: %d sequence: %d headerKeys: [%s]",
					r.Offset, tsType, r.Timestamp, sizeOrNull(r.Key), sizeOrNull(r.Value), seq, strings.Join(keys, ","))
				if o.printData {
					if r.Key != nil {
						fmt.Fprintf(w, " key: %s", r.Key)
					}
					if r.Value != nil {
						fmt.Fprintf(w, " payload: %s", r.Value)
					}
				}
				fmt.Fprintln(w)
				return nil
			})
			if err != nil {
				return fmt.Errorf("batch at position %d: %w", pos, err)
			}
		}
		pos += n
	}
	return nil
}

func sizeOrNull(b []byte) int {
	if b == nil {
		return -1
	}
	return len(b)
}
