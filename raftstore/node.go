package raftstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"google.golang.org/grpc"

	"github.com/ferrydr/ferry/internal/hlc"
	"github.com/ferrydr/ferry/internal/mmaptrim"
	"github.com/ferrydr/ferry/journal"
	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore/ecstore"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// Node is one ferryd process's share of a site: a raft voter whose state
// machine writes the site's journal and metadata index, the node's shard
// disks, and the gRPC node API.
type Node struct {
	cfg Config
	log *slog.Logger
	fsm *fsm
	// trimNow asks the maintain loop for a trim of the raft log's mapping
	// (after a snapshot compacted the log).
	trimNow chan struct{}
	disks   *ecstore.Disks
	store   *ecstore.Store
	clock   *hlc.Clock
	// writeSlots and readSlots hold one token per erasure-coded payload
	// being written or read (Config.MaxStreams).
	writeSlots, readSlots chan struct{}

	raft      *raft.Raft
	transport *raft.NetworkTransport
	logStore  *raftboltdb.BoltStore
	applyErr  applyStatus

	apiLis  net.Listener
	apiAddr string
	grpc    *grpc.Server
	peers   *peers

	// readyTerm is the term in which this node, as leader, last completed a
	// barrier, so its commit index covers every earlier term.
	readyTerm atomic.Uint64

	// root is the state of the root user's bootstrap (identity.go), owned
	// by the maintain goroutine.
	root rootBootstrap

	ctx       context.Context
	cancel    context.CancelFunc
	stop      chan struct{}
	wg        sync.WaitGroup
	fatal     chan error
	closeOnce sync.Once
	closeErr  error
}

// Open starts a node: it opens the journal, index and disks, starts raft
// and serves the node API. Close stops it.
func Open(cfg Config) (n *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("node", cfg.NodeID)
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = 16
	}
	n = &Node{cfg: cfg, log: log, clock: hlc.New(nil), stop: make(chan struct{}), fatal: make(chan error, 1),
		writeSlots: make(chan struct{}, cfg.MaxStreams), readSlots: make(chan struct{}, cfg.MaxStreams)}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	var closers []func() error
	defer func() {
		if err != nil {
			n.cancel()
			for i := len(closers) - 1; i >= 0; i-- {
				err = errors.Join(err, closers[i]())
			}
		}
	}()
	raftDir := filepath.Join(cfg.DataDir, "raft")
	for _, d := range []string{cfg.DataDir, raftDir, filepath.Join(cfg.DataDir, "journal")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("raftstore: %w", err)
		}
	}
	// Everything below the data directory may hold secrets (identity.go).
	if err := securePrivateDir(cfg.DataDir, log); err != nil {
		return nil, fmt.Errorf("raftstore: %w", err)
	}
	jrCfg := journal.DefaultConfig()
	jrCfg.Dir, jrCfg.FS, jrCfg.Logger = filepath.Join(cfg.DataDir, "journal"), cfg.FS, log
	jrCfg.RetentionWindow, jrCfg.SegmentBytes = cfg.JournalRetention, cfg.JournalSegmentBytes
	jr, err := journal.Open(jrCfg)
	if err != nil {
		return nil, fmt.Errorf("raftstore: open journal: %w", err)
	}
	indexDir := filepath.Join(cfg.DataDir, "index")
	if err := recoverIndexDir(indexDir); err != nil {
		return nil, errors.Join(err, jr.Close())
	}
	if n.fsm, err = openFSM(jrCfg, jr, indexDir, indexOptions{CacheBytes: cfg.IndexCacheBytes, MemTableBytes: cfg.IndexMemTableBytes, Logger: log}); err != nil {
		return nil, errors.Join(err, jr.Close())
	}
	closers = append(closers, func() error { return errors.Join(n.fsm.index().close(), n.fsm.journal().Close()) })
	if n.disks, err = ecstore.OpenDisks(cfg.FS, cfg.NodeID, cfg.Disks); err != nil {
		return nil, fmt.Errorf("raftstore: open disks: %w", err)
	}
	n.peers = newPeers()
	closers = append(closers, n.peers.close)
	n.store, err = ecstore.New(ecstore.Config{
		Node: cfg.NodeID, Local: n.disks, Transport: &shardTransport{n: n},
		StripeSize: cfg.StripeBytes, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("raftstore: %w", err)
	}

	// The node API.
	if n.apiLis, err = net.Listen("tcp", cfg.APIAddr); err != nil {
		return nil, fmt.Errorf("raftstore: listen on %s: %w", cfg.APIAddr, err)
	}
	closers = append(closers, func() error {
		if errors.Is(n.apiLis.Close(), net.ErrClosed) {
			return nil
		}
		return nil
	})
	n.apiAddr = cfg.APIAdvertise
	if n.apiAddr == "" {
		n.apiAddr = n.apiLis.Addr().String()
	}

	// Raft.
	hl := hclog.New(&hclog.LoggerOptions{Name: "raft", Output: io.Discard, Level: hclog.Off})
	if cfg.Logger != nil {
		hl = hclog.New(&hclog.LoggerOptions{Name: "raft." + cfg.NodeID, Output: os.Stderr, Level: hclog.LevelFromString(cfg.RaftLogLevel)})
	}
	n.logStore, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(raftDir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("raftstore: open raft log: %w", err)
	}
	closers = append(closers, n.logStore.Close)
	snaps, err := raft.NewFileSnapshotStoreWithLogger(raftDir, 2, hl)
	if err != nil {
		return nil, fmt.Errorf("raftstore: open snapshot store: %w", err)
	}
	var advertise net.Addr
	if cfg.RaftAdvertise != "" {
		if advertise, err = net.ResolveTCPAddr("tcp", cfg.RaftAdvertise); err != nil {
			return nil, fmt.Errorf("%w: raft advertise address: %v", ErrInvalidArgument, err)
		}
	}
	n.transport, err = raft.NewTCPTransportWithLogger(cfg.RaftAddr, advertise, 3, 10*time.Second, hl)
	if err != nil {
		return nil, fmt.Errorf("raftstore: raft transport on %s: %w", cfg.RaftAddr, err)
	}
	closers = append(closers, n.transport.Close)
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.Logger = hl
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 256
	// The index is persistent and idempotent by applied index: replaying the
	// log tail after a restart is enough, restoring the snapshot is not
	// needed — unless the index is behind the newest snapshot (it was lost
	// or replaced), since the log before that snapshot may be gone.
	rc.NoSnapshotRestoreOnStart = true
	if metas, err := snaps.List(); err != nil {
		return nil, fmt.Errorf("raftstore: list snapshots: %w", err)
	} else if m, err := n.fsm.index().meta(); err != nil {
		return nil, err
	} else if len(metas) > 0 && m.Applied < metas[0].Index {
		log.Warn("index is behind the newest snapshot; restoring it from the snapshot", "applied", m.Applied, "snapshot", metas[0].Index)
		rc.NoSnapshotRestoreOnStart = false
	}
	n.trimNow = make(chan struct{}, 1)
	fsmAdapter := &raftFSM{f: n.fsm, log: log, stop: n.stop, status: &n.applyErr, onFatal: n.onFatal,
		// Compacting the log after a snapshot walks every page of the
		// entries it drops (100 MiB at 3,400 puts/s and the default
		// interval): trim them now, not at the next tick.
		snapshotReleased: func() {
			select {
			case n.trimNow <- struct{}{}:
			default:
			}
		}}
	// Recent entries are read back right after they are written: by the
	// leader to replicate them, by followers to apply them. A cache of
	// them saves a B+tree lookup and a msgpack decode per entry each time.
	logs, err := raft.NewLogCache(RaftLogCacheEntries, n.logStore)
	if err != nil {
		return nil, fmt.Errorf("raftstore: %w", err)
	}
	if n.raft, err = raft.NewRaft(rc, fsmAdapter, logs, n.logStore, snaps, n.transport); err != nil {
		return nil, fmt.Errorf("raftstore: start raft: %w", err)
	}
	closers = append(closers, func() error { return n.raft.Shutdown().Error() })
	if cfg.Bootstrap {
		has, err := raft.HasExistingState(n.logStore, n.logStore, snaps)
		if err != nil {
			return nil, fmt.Errorf("raftstore: %w", err)
		}
		if !has {
			f := n.raft.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{
				Suffrage: raft.Voter, ID: rc.LocalID, Address: n.transport.LocalAddr(),
			}}})
			if err := f.Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
				return nil, fmt.Errorf("raftstore: bootstrap: %w", err)
			}
			log.Info("bootstrapped a new site", "site", cfg.Site)
		}
	}

	n.grpc = grpc.NewServer(grpc.MaxRecvMsgSize(maxMsgBytes), grpc.MaxSendMsgSize(maxMsgBytes))
	nodepb.RegisterNodeServer(n.grpc, &server{n: n})
	n.wg.Add(3)
	go n.movePayloadsLoop()
	go func() {
		defer n.wg.Done()
		if err := n.grpc.Serve(n.apiLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			log.Error("node api stopped", "err", err)
		}
	}()
	go n.maintain()
	log.Info("node started", "api", n.apiAddr, "raft", n.transport.LocalAddr())
	return n, nil
}

// maxMsgBytes bounds one gRPC message (a shard, a chunk, an event).
const maxMsgBytes = 80 << 20

// trimRaftLog releases the resident pages of the raft log's mapping:
// raft-boltdb reads the log through a shared mmap, and the pages it
// touched would count as this process's memory (they stay in the page
// cache; see internal/mmaptrim).
func (n *Node) trimRaftLog() {
	if _, err := mmaptrim.Trim(filepath.Join(n.cfg.DataDir, "raft", "raft.db")); err != nil {
		n.log.Warn("trim raft log mapping", "err", err)
	}
}

// RaftLogCacheEntries is how many of the newest raft log entries a node
// keeps in memory (hashicorp/raft's LogCache): a few batches, bounded by
// entries of at most inline_bytes plus a manifest.
const RaftLogCacheEntries = 256

// APIAddr is the address of the node API.
func (n *Node) APIAddr() string { return n.apiAddr }

// RaftAddr is the node's raft transport address.
func (n *Node) RaftAddr() string { return string(n.transport.LocalAddr()) }

// ID is the node's id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Fatal delivers an error that stopped the node's state machine; the owner
// should Close the node.
func (n *Node) Fatal() <-chan error { return n.fatal }

func (n *Node) onFatal(err error) {
	select {
	case n.fatal <- err:
	default:
	}
}

// Close stops the node and waits for everything it started.
func (n *Node) Close() error { return n.shutdown((*index).close) }

// shutdown stops the node; closeIndex closes its index (tests pass one
// that drops the unflushed memtable, as a crash does).
func (n *Node) shutdown(closeIndex func(*index) error) error {
	n.closeOnce.Do(func() {
		n.cancel()
		close(n.stop)
		n.grpc.Stop()
		n.wg.Wait()
		errs := []error{n.raft.Shutdown().Error(), n.transport.Close(), n.logStore.Close(), n.peers.close()}
		errs = append(errs, closeIndex(n.fsm.index()), n.fsm.journal().Close())
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// IsLeader reports whether this node is the site's raft leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Committed says where a proposal landed.
type Committed struct {
	// RaftIndex is the raft log index of the entry.
	RaftIndex uint64
	// JournalIndex is the event's journal index.
	JournalIndex uint64
	// HLC is the event's timestamp as committed.
	HLC *journalpb.Timestamp
	// Outcome is what the state machine decided (never nil on success).
	Outcome *nodepb.Outcome
}

// Propose commits ev through the site's raft group, forwarding to the
// leader from a follower, and returns when the event is applied (on the
// leader). It retries while the leader is unknown or changing, as long as
// ctx allows: a not-leader answer means nothing was applied.
func (n *Node) Propose(ctx context.Context, ev *journalpb.Event) (Committed, error) {
	if err := checkProposable(ev); err != nil {
		return Committed{}, err
	}
	return retryNotLeader(ctx, func() (Committed, error) { return n.proposeOnce(ctx, ev) })
}

// retryNotLeader calls fn until it returns anything but a not-leader error
// or ctx ends.
func retryNotLeader[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	backoff := 10 * time.Millisecond
	for {
		v, err := fn()
		if !errors.Is(err, ErrNotLeader) {
			return v, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, errors.Join(err, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, 250*time.Millisecond)
	}
}

func (n *Node) proposeOnce(ctx context.Context, ev *journalpb.Event) (Committed, error) {
	if n.raft.State() != raft.Leader {
		c, err := n.leaderClient()
		if err != nil {
			return Committed{}, err
		}
		resp, err := c.Propose(ctx, &nodepb.ProposeRequest{Event: ev})
		if err != nil {
			return Committed{}, FromStatus(err)
		}
		out := resp.GetOutcome()
		if out == nil {
			out = &nodepb.Outcome{}
		}
		return Committed{RaftIndex: resp.GetIndex(), JournalIndex: resp.GetJournalIndex(), HLC: resp.GetHlc(), Outcome: out}, nil
	}
	return n.proposeLocal(ctx, ev)
}

// proposeLocal stamps and proposes ev on this node, which believes it leads.
func (n *Node) proposeLocal(ctx context.Context, ev *journalpb.Event) (Committed, error) {
	if ev.GetOriginSite() == "" {
		ev.OriginSite = n.cfg.Site
	}
	if ev.GetHlc() == nil {
		ev.Hlc = n.clock.Now().Proto()
	} else {
		n.clock.Observe(hlc.FromProto(ev.GetHlc()))
	}
	if ev.GetPrincipal() == "" {
		ev.Principal = "system"
	}
	data, err := encodeEntry(ev)
	if err != nil {
		return Committed{}, err
	}
	f := n.raft.Apply(data, 0)
	if err := n.await(ctx, f); err != nil {
		return Committed{}, err
	}
	res, ok := f.Response().(applyResult)
	if !ok {
		return Committed{}, fmt.Errorf("raftstore: unexpected apply response %T", f.Response())
	}
	if res.Err != nil {
		return Committed{}, res.Err
	}
	out := res.Outcome
	if out == nil {
		out = &nodepb.Outcome{}
	}
	return Committed{RaftIndex: f.Index(), JournalIndex: res.JournalIndex, HLC: res.HLC, Outcome: out}, nil
}

// await waits for a raft future, translating raft's errors into classes.
// The goroutine it starts ends when the future resolves, which raft
// guarantees (at the latest when raft shuts down).
func (n *Node) await(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return n.raftError(err)
	case <-ctx.Done():
		return errors.Join(ErrIndeterminate, ctx.Err())
	case <-n.stop:
		return ErrShutdown
	}
}

func (n *Node) raftError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrNotVoter):
		return n.notLeader()
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: %v", ErrIndeterminate, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrShutdown
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}

func (n *Node) notLeader() error {
	addr, id := n.raft.LeaderWithID()
	if id == "" || addr == "" {
		return &NotLeaderError{}
	}
	nl := &NotLeaderError{LeaderID: string(id)}
	if nodes, err := n.fsm.index().nodes(); err == nil {
		nl.LeaderAPIAddr = nodes[string(id)].GetApiAddr()
	}
	return nl
}

// leaderClient returns a client for the current leader's API, or a
// NotLeaderError when it is not known.
func (n *Node) leaderClient() (nodepb.NodeClient, error) {
	err := n.notLeader()
	var nl *NotLeaderError
	if !errors.As(err, &nl) || nl.LeaderAPIAddr == "" || nl.LeaderID == n.cfg.NodeID {
		return nil, err
	}
	return n.peers.client(nl.LeaderAPIAddr)
}

// ReadIndex returns a raft index that covers every write acknowledged
// before the call (the read-index protocol): the leader confirms it still
// leads and answers with its applied index; a follower asks the leader.
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	return retryNotLeader(ctx, func() (uint64, error) {
		if n.raft.State() != raft.Leader {
			c, err := n.leaderClient()
			if err != nil {
				return 0, err
			}
			resp, err := c.ReadIndex(ctx, &nodepb.ReadIndexRequest{})
			if err != nil {
				return 0, FromStatus(err)
			}
			return resp.GetIndex(), nil
		}
		term := n.raft.CurrentTerm()
		if n.readyTerm.Load() != term {
			if err := n.await(ctx, n.raft.Barrier(0)); err != nil {
				return 0, err
			}
			n.readyTerm.Store(term)
		}
		if err := n.await(ctx, n.raft.VerifyLeader()); err != nil {
			return 0, err
		}
		// Every acknowledged write was applied on the leader before it was
		// acknowledged, and the barrier covers earlier terms, so the
		// leader's applied index covers every write acknowledged before
		// this call. (The commit index would not do: barrier and no-op
		// entries never reach the state machine, so followers could not
		// "apply" up to it.)
		applied, _ := n.fsm.appliedIndex()
		return applied, nil
	})
}

// waitApplied waits until this node has applied index i.
func (n *Node) waitApplied(ctx context.Context, i uint64) error {
	for {
		applied, ch := n.fsm.appliedIndex()
		if applied >= i {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: waiting for index %d (applied %d): %w", ErrUnavailable, i, applied, ctx.Err())
		case <-n.stop:
			return ErrShutdown
		}
	}
}

// linearize makes the following local read see every write committed
// before it was called.
func (n *Node) linearize(ctx context.Context) error {
	i, err := n.ReadIndex(ctx)
	if err != nil {
		return err
	}
	return n.waitApplied(ctx, i)
}

// AddMember adds a voter (or non-voter) to the site; a follower forwards
// to the leader.
func (n *Node) AddMember(ctx context.Context, id, raftAddr string, nonvoter bool) error {
	if id == "" || raftAddr == "" {
		return fmt.Errorf("%w: a member needs an id and a raft address", ErrInvalidArgument)
	}
	_, err := retryNotLeader(ctx, func() (struct{}, error) {
		if n.raft.State() != raft.Leader {
			c, err := n.leaderClient()
			if err != nil {
				return struct{}{}, err
			}
			_, err = c.AddMember(ctx, &nodepb.AddMemberRequest{Node: id, RaftAddr: raftAddr, Nonvoter: nonvoter})
			return struct{}{}, FromStatus(err)
		}
		var f raft.IndexFuture
		if nonvoter {
			f = n.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, 0)
		} else {
			f = n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, 0)
		}
		return struct{}{}, n.await(ctx, f)
	})
	return err
}

// RemoveMember removes a member from the site.
func (n *Node) RemoveMember(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("%w: member id is required", ErrInvalidArgument)
	}
	_, err := retryNotLeader(ctx, func() (struct{}, error) {
		if n.raft.State() != raft.Leader {
			c, err := n.leaderClient()
			if err != nil {
				return struct{}{}, err
			}
			_, err = c.RemoveMember(ctx, &nodepb.RemoveMemberRequest{Node: id})
			return struct{}{}, FromStatus(err)
		}
		cf := n.raft.GetConfiguration()
		if err := n.await(ctx, cf); err != nil {
			return struct{}{}, err
		}
		if !slices.ContainsFunc(cf.Configuration().Servers, func(s raft.Server) bool { return s.ID == raft.ServerID(id) }) {
			return struct{}{}, fmt.Errorf("%w: member %s", ErrNotFound, id)
		}
		return struct{}{}, n.await(ctx, n.raft.RemoveServer(raft.ServerID(id), 0, 0))
	})
	return err
}

// members returns the raft configuration.
func (n *Node) members(ctx context.Context) ([]raft.Server, error) {
	cf := n.raft.GetConfiguration()
	if err := n.await(ctx, cf); err != nil {
		return nil, err
	}
	return cf.Configuration().Servers, nil
}

// Status describes the node and, as far as it knows, the site.
func (n *Node) Status(ctx context.Context) (*nodepb.StatusResponse, error) {
	idx := n.fsm.index()
	meta, err := idx.meta()
	if err != nil {
		return nil, err
	}
	leaderAddr, leaderID := n.raft.LeaderWithID()
	st := &nodepb.StatusResponse{
		Node: n.cfg.NodeID, Site: n.cfg.Site, State: n.raft.State().String(),
		Leader: string(leaderID), Term: n.raft.CurrentTerm(), CommitIndex: n.raft.CommitIndex(),
		AppliedIndex: meta.Applied, JournalFirst: n.fsm.journal().FirstIndex(), JournalLast: n.fsm.journal().LastIndex(),
		Objects: meta.Objects, ApiAddr: n.apiAddr, RaftAddr: n.RaftAddr(),
	}
	if err := n.applyErr.get(); err != nil {
		st.ApplyError = err.Error()
	}
	_ = leaderAddr
	nodes, err := idx.nodes()
	if err != nil {
		return nil, err
	}
	st.LeaderApiAddr = nodes[string(leaderID)].GetApiAddr()
	servers, err := n.members(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range servers {
		st.Members = append(st.Members, &nodepb.Member{
			Node: string(s.ID), RaftAddr: string(s.Address), ApiAddr: nodes[string(s.ID)].GetApiAddr(),
			Voter: s.Suffrage == raft.Voter, Leader: s.ID == leaderID,
		})
	}
	pools, err := idx.pools()
	if err != nil {
		return nil, err
	}
	health := n.disks.Health()
	for _, p := range pools {
		ps := &nodepb.PoolStatus{Pool: p.Def.GetPool(), DataShards: p.Def.GetDataShards(), ParityShards: p.Def.GetParityShards(), Active: p.Active}
		for _, d := range p.Disks {
			dh := &nodepb.DiskHealth{Node: d.GetNode(), Disk: d.GetDisk(), Online: true}
			if d.GetNode() == n.cfg.NodeID {
				if herr := health[d.GetDisk()]; herr != nil {
					dh.Online, dh.Error = false, herr.Error()
				}
			}
			ps.Disks = append(ps.Disks, dh)
		}
		st.Pools = append(st.Pools, ps)
	}
	if stats := n.raft.Stats(); stats != nil {
		fmt.Sscan(stats["last_snapshot_index"], &st.LastSnapshotIndex)
	}
	return st, nil
}

// maintain is the node's housekeeping loop: joining the site, registering
// the node's address and disks, creating the default pool, scrubbing and
// collecting garbage. It runs until Close.
func (n *Node) maintain() {
	defer n.wg.Done()
	tick := time.NewTicker(n.cfg.MaintainInterval)
	defer tick.Stop()
	var scrubC, gcC <-chan time.Time
	if n.cfg.ScrubInterval > 0 {
		t := time.NewTicker(n.cfg.ScrubInterval)
		defer t.Stop()
		scrubC = t.C
	}
	if n.cfg.GCInterval > 0 {
		t := time.NewTicker(n.cfg.GCInterval)
		defer t.Stop()
		gcC = t.C
	}
	var trimC <-chan time.Time
	var trimNow <-chan struct{}
	if n.cfg.MappedTrimInterval > 0 {
		t := time.NewTicker(n.cfg.MappedTrimInterval)
		defer t.Stop()
		trimC, trimNow = t.C, n.trimNow
	}
	for {
		select {
		case <-n.stop:
			return
		case <-tick.C:
			n.maintainOnce()
		case <-scrubC:
			if rep, err := n.Scrub(n.ctx, false); err != nil {
				n.log.Error("scrub failed", "err", err)
			} else {
				n.log.Info("scrub done", "checked", rep.Checked, "corrupt", rep.Corrupt, "missing", rep.Missing, "repaired", rep.Repaired, "unrepairable", rep.Unrepairable)
			}
		case <-trimC:
			n.trimRaftLog()
		case <-trimNow:
			n.trimRaftLog()
		case <-gcC:
			if removed, err := n.CollectGarbage(n.ctx); err != nil {
				n.log.Error("shard gc failed", "err", err)
			} else if removed > 0 {
				n.log.Info("shard gc", "removed", removed)
			}
		}
	}
}

func (n *Node) maintainOnce() {
	ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
	defer cancel()
	if err := n.joinIfNeeded(ctx); err != nil {
		n.log.Debug("join", "err", err)
		return
	}
	if err := n.registerIfNeeded(ctx); err != nil {
		n.log.Debug("register", "err", err)
	}
	if n.IsLeader() {
		if err := n.createDefaultPoolIfNeeded(ctx); err != nil {
			n.log.Debug("default pool", "err", err)
		}
	}
	if err := n.bootstrapRootIfNeeded(ctx); err != nil {
		n.log.Debug("root user", "err", err)
	}
}

func (n *Node) joinIfNeeded(ctx context.Context) error {
	if len(n.cfg.Join) == 0 {
		return nil
	}
	servers, err := n.members(ctx)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(servers, func(s raft.Server) bool { return s.ID == raft.ServerID(n.cfg.NodeID) }) {
		return nil
	}
	var errs []error
	for _, addr := range n.cfg.Join {
		c, err := n.peers.client(addr)
		if err == nil {
			_, err = c.AddMember(ctx, &nodepb.AddMemberRequest{Node: n.cfg.NodeID, RaftAddr: n.RaftAddr()})
			if err = FromStatus(err); err == nil {
				n.log.Info("joined the site", "via", addr)
				return nil
			}
		}
		errs = append(errs, fmt.Errorf("join via %s: %w", addr, err))
	}
	return errors.Join(errs...)
}

func (n *Node) registerIfNeeded(ctx context.Context) error {
	nodes, err := n.fsm.index().nodes()
	if err != nil {
		return err
	}
	want := &journalpb.NodeRegister{Node: n.cfg.NodeID, ApiAddr: n.apiAddr}
	for _, d := range n.cfg.Disks {
		want.Disks = append(want.Disks, d.ID)
	}
	if cur := nodes[n.cfg.NodeID]; cur != nil && cur.GetApiAddr() == want.GetApiAddr() && slices.Equal(cur.GetDisks(), want.GetDisks()) {
		return nil
	}
	_, leaderID := n.raft.LeaderWithID()
	if leaderID == "" {
		return &NotLeaderError{}
	}
	_, err = n.proposeOnce(ctx, &journalpb.Event{Kind: journalpb.Kind_NODE_REGISTER, Body: &journalpb.Event_NodeRegister{NodeRegister: want}})
	return err
}

// newIDKey returns a fresh random shard id key for a new pool. The
// proposer draws it, so the state machine only copies it.
func newIDKey() []byte {
	k := make([]byte, ecstore.IDKeySize)
	_, _ = rand.Read(k) // crypto/rand.Read never fails (Go 1.24+)
	return k
}

func (n *Node) createDefaultPoolIfNeeded(ctx context.Context) error {
	pools, err := n.fsm.index().pools()
	if err != nil || len(pools) > 0 {
		return err
	}
	_, err = n.proposeLocal(ctx, &journalpb.Event{Kind: journalpb.Kind_POOL_CREATE, Body: &journalpb.Event_PoolCreate{PoolCreate: &journalpb.PoolCreate{
		Pool: "default", DataShards: uint32(n.cfg.DataShards), ParityShards: uint32(n.cfg.ParityShards), StripeSize: uint32(n.cfg.StripeBytes),
		IdKey: newIDKey(),
	}}})
	if errors.Is(err, ErrInvalidArgument) {
		return nil // created concurrently
	}
	return err
}

// AppliedIndex is the last raft index this node's state machine applied.
func (n *Node) AppliedIndex() uint64 {
	i, _ := n.fsm.appliedIndex()
	return i
}

// Snapshot asks raft to take a snapshot now (and compact the log).
func (n *Node) Snapshot(ctx context.Context) error {
	return n.await(ctx, n.raft.Snapshot())
}

// StateHash is a digest of the node's replicated state: equal on every
// replica that applied the same log.
func (n *Node) StateHash() (uint64, [32]byte, error) {
	return n.fsm.stateHash()
}
