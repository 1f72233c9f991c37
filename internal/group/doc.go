// Package group is Sluice's group coordinator: consumer groups (the classic
// JoinGroup/SyncGroup protocol and the KIP-848 ConsumerGroupHeartbeat
// protocol) and their committed offsets.
//
// It matches Apache Kafka's GroupCoordinator / GroupMetadataManager /
// OffsetMetadataManager (the "new group coordinator" of Kafka 3.7+): same
// states (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead for
// classic groups; Empty, Assigning, Reconciling, Stable for consumer groups),
// same error codes, and the same record formats on __consumer_offsets
// (offset commit key v1 + value v3, group metadata key v2 + value v3), so a
// kafka-dump-log style tool reads what Sluice writes.
//
// What it owns: group membership, rebalances, server-side assignment for
// KIP-848 groups, and the in-memory view of committed offsets, rebuilt on
// Start by replaying __consumer_offsets. What it must not do: touch the
// network or the log directly. The broker decodes requests (franz-go kmsg),
// calls Coordinator.Handle, and writes the response; the broker implements
// Store over the __consumer_offsets partitions and Topics over its metadata
// image.
//
// # Concurrency
//
// Each group is guarded by its own mutex (group.mu) rather than owned by an
// actor goroutine: every operation on a group is a short critical section, and
// the only waits (a JoinGroup for the rebalance to finish, a SyncGroup for the
// leader's assignment) happen outside the lock on a buffered channel, in a
// select that also watches the request's ctx and the coordinator's done
// channel. Timers (session timeouts, rebalance timeouts, the initial
// rebalance delay, KIP-848 revocation timeouts) are deadlines stored in the
// group; one time.Timer per group fires at the earliest of them and runs
// group.tickLocked. This is as safe as an actor (one owner of the state at a
// time, state changes serialized), costs no goroutine per idle group, and
// keeps the 10,000-group load cheap.
//
// Store.Append is called with the group lock held, so a group's records are
// written in the order its state changed, and the in-memory state changes
// only after the write is durable.
//
// Lock order: group.mu, then Coordinator.mu. Coordinator.mu is never held
// while waiting on anything.
package group
