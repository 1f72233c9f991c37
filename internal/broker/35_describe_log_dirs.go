package broker

// DescribeLogDirs: v0-5
//
// Behavior:
//   - One log directory with every hosted partition (or those asked for):
//     size, offset lag 0, not a future log; v4+ adds the volume's total and
//     usable bytes.
//   - Compacted partitions carry the cleaner's progress in a Sluice tagged
//     field (wire.TagCleanerStatus, v2+), which other clients ignore.

import (
	"encoding/json"
	"sort"
	"syscall"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/wire"
)

func (b *Broker) handleDescribeLogDirs(req *kmsg.DescribeLogDirsRequest) *kmsg.DescribeLogDirsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	dir := kmsg.NewDescribeLogDirsResponseDir()
	dir.Dir = b.cfg.LogDir
	var st syscall.Statfs_t
	if syscall.Statfs(b.cfg.LogDir, &st) == nil {
		dir.TotalBytes = int64(st.Blocks) * st.Bsize
		dir.UsableBytes = int64(st.Bavail) * st.Bsize
	}
	want := func(topic string, p int32) bool { return true }
	if req.Topics != nil {
		set := map[replica.TopicPartition]bool{}
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				set[replica.TopicPartition{Topic: t.Topic, Partition: p}] = true
			}
		}
		want = func(topic string, p int32) bool { return set[replica.TopicPartition{Topic: topic, Partition: p}] }
	}
	byTopic := map[string][]kmsg.DescribeLogDirsResponseDirTopicPartition{}
	for tp, p := range b.replicas.All() {
		if !want(tp.Topic, tp.Partition) {
			continue
		}
		dp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		dp.Partition = tp.Partition
		dp.Size = p.Log.Size()
		if req.Version >= 2 && p.Policy().Compact && b.replicas.Cleaner() != nil {
			st := b.replicas.Cleaner().StatusOf(p)
			js, _ := json.Marshal(wire.CleanerStatus{
				Checkpoint: st.Checkpoint, Passes: st.Passes, BytesRead: st.BytesRead, BytesWritten: st.BytesWrite,
				LastDirty: st.Last.DirtyRatio, LastMBPerSec: st.Last.MBPerSecond(), LastError: st.LastError, Uncleanable: st.Uncleanable,
			})
			dp.UnknownTags.Set(wire.TagCleanerStatus, js)
		}
		byTopic[tp.Topic] = append(byTopic[tp.Topic], dp)
	}
	names := make([]string, 0, len(byTopic))
	for n := range byTopic {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		dt := kmsg.NewDescribeLogDirsResponseDirTopic()
		dt.Topic = n
		dt.Partitions = byTopic[n]
		sort.Slice(dt.Partitions, func(i, j int) bool { return dt.Partitions[i].Partition < dt.Partitions[j].Partition })
		dir.Topics = append(dir.Topics, dt)
	}
	resp.Dirs = append(resp.Dirs, dir)
	return resp
}
