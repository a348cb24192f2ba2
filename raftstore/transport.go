package raftstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/ferrydr/ferry/raftstore/ecstore"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// peers caches gRPC client connections to other nodes by address.
type peers struct {
	mu struct {
		sync.Mutex
		conns  map[string]*grpc.ClientConn
		closed bool
	}
}

func newPeers() *peers {
	p := &peers{}
	p.mu.conns = map[string]*grpc.ClientConn{}
	return p
}

// Dial opens a client connection to a node API address with ferry's
// message limits.
func Dial(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgBytes), grpc.MaxCallSendMsgSize(maxMsgBytes)),
	)
}

func (p *peers) client(addr string) (nodepb.NodeClient, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed {
		return nil, ErrShutdown
	}
	if c, ok := p.mu.conns[addr]; ok {
		return nodepb.NewNodeClient(c), nil
	}
	c, err := Dial(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %v", ErrUnavailable, addr, err)
	}
	p.mu.conns[addr] = c
	return nodepb.NewNodeClient(c), nil
}

func (p *peers) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.closed = true
	var errs []error
	for _, c := range p.mu.conns {
		errs = append(errs, c.Close())
	}
	p.mu.conns = nil
	return errors.Join(errs...)
}

// shardTransport reaches other nodes' disks over the node API.
type shardTransport struct{ n *Node }

var _ ecstore.Transport = (*shardTransport)(nil)

func (t *shardTransport) client(node string) (nodepb.NodeClient, error) {
	nodes, err := t.n.fsm.index().nodes()
	if err != nil {
		return nil, err
	}
	reg, ok := nodes[node]
	if !ok || reg.GetApiAddr() == "" {
		return nil, fmt.Errorf("%w: node %s has not registered an address", ErrUnavailable, node)
	}
	return t.n.peers.client(reg.GetApiAddr())
}

// remoteShardError turns a shard RPC error back into ecstore's classes.
func remoteShardError(err error) error {
	err = FromStatus(err)
	switch {
	case errors.Is(err, ErrNotFound):
		return errors.Join(ecstore.ErrNotFound, err)
	case errors.Is(err, ErrCorrupt):
		return errors.Join(ecstore.ErrCorrupt, err)
	}
	return err
}

func (t *shardTransport) PutShard(ctx context.Context, loc ecstore.Location, scheme ecstore.IDScheme, id ecstore.ShardID, data []byte) error {
	c, err := t.client(loc.Node)
	if err != nil {
		return err
	}
	_, err = c.PutShard(ctx, &nodepb.PutShardRequest{Disk: loc.Disk, Id: id[:], Data: data, IdKey: scheme.Key(), DerivedId: scheme.IsDerived()})
	if err != nil {
		return fmt.Errorf("put shard on %s/%s: %w", loc.Node, loc.Disk, remoteShardError(err))
	}
	return nil
}

func (t *shardTransport) GetShard(ctx context.Context, loc ecstore.Location, id ecstore.ShardID) ([]byte, error) {
	c, err := t.client(loc.Node)
	if err != nil {
		return nil, err
	}
	resp, err := c.GetShard(ctx, &nodepb.GetShardRequest{Disk: loc.Disk, Id: id[:]})
	if err != nil {
		return nil, fmt.Errorf("get shard from %s/%s: %w", loc.Node, loc.Disk, remoteShardError(err))
	}
	return resp.GetData(), nil
}
