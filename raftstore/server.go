package raftstore

import (
	"context"
	"fmt"
	"io"

	"github.com/ferrydr/ferry/raftstore/ecstore"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// server serves the node API over gRPC. Every error leaves through toStatus.
type server struct {
	nodepb.UnimplementedNodeServer
	n *Node
}

// chunkBytes is the size of the data messages GetObject streams.
const chunkBytes = 1 << 20

func (s *server) Propose(ctx context.Context, req *nodepb.ProposeRequest) (*nodepb.ProposeResponse, error) {
	if req.GetEvent() == nil {
		return nil, toStatus(fmt.Errorf("%w: no event", ErrInvalidArgument))
	}
	if err := checkProposable(req.GetEvent()); err != nil {
		return nil, toStatus(err)
	}
	// A forwarded proposal is not forwarded again: a node that is not the
	// leader says so and the caller retries with the new leader.
	if !s.n.IsLeader() {
		return nil, toStatus(s.n.notLeader())
	}
	c, err := s.n.proposeLocal(ctx, req.GetEvent())
	if err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.ProposeResponse{Index: c.RaftIndex, JournalIndex: c.JournalIndex, Hlc: c.HLC, Outcome: c.Outcome}, nil
}

func (s *server) ReadIndex(ctx context.Context, _ *nodepb.ReadIndexRequest) (*nodepb.ReadIndexResponse, error) {
	if !s.n.IsLeader() {
		return nil, toStatus(s.n.notLeader())
	}
	i, err := s.n.ReadIndex(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.ReadIndexResponse{Index: i}, nil
}

// putStreamReader reads the data messages of a PutObject stream.
type putStreamReader struct {
	stream nodepb.Node_PutObjectServer
	buf    []byte
	err    error
}

func (r *putStreamReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		msg, err := r.stream.Recv()
		if err != nil {
			r.err = err
			continue
		}
		if msg.GetHeader() != nil {
			r.err = fmt.Errorf("%w: a second header in one PutObject stream", ErrInvalidArgument)
			continue
		}
		r.buf = msg.GetData()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (s *server) PutObject(stream nodepb.Node_PutObjectServer) error {
	first, err := stream.Recv()
	if err != nil {
		return toStatus(fmt.Errorf("%w: empty PutObject stream: %v", ErrInvalidArgument, err))
	}
	hdr := first.GetHeader()
	if hdr == nil {
		return toStatus(fmt.Errorf("%w: PutObject stream must start with a header", ErrInvalidArgument))
	}
	body := &putStreamReader{stream: stream}
	info, err := s.n.PutObject(stream.Context(), hdr, body)
	if err != nil {
		return toStatus(err)
	}
	return stream.SendAndClose(info)
}

// chunkWriter sends what it is given as GetObject data messages.
type chunkWriter struct {
	stream nodepb.Node_GetObjectServer
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	for off := 0; off < len(p); off += chunkBytes {
		end := min(off+chunkBytes, len(p))
		if err := w.stream.Send(&nodepb.GetObjectResponse{Msg: &nodepb.GetObjectResponse_Data{Data: p[off:end]}}); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

func (s *server) GetObject(req *nodepb.GetObjectRequest, stream nodepb.Node_GetObjectServer) error {
	info := func(oi *nodepb.ObjectInfo) error {
		return stream.Send(&nodepb.GetObjectResponse{Msg: &nodepb.GetObjectResponse_Info{Info: oi}})
	}
	length := req.GetLength()
	if length == 0 && req.GetOffset() == 0 {
		length = -1
	}
	err := s.n.GetObject(stream.Context(), req.GetBucket(), req.GetKey(), req.GetOffset(), length, &chunkWriter{stream: stream}, info)
	return toStatus(err)
}

func (s *server) HeadObject(ctx context.Context, req *nodepb.HeadObjectRequest) (*nodepb.ObjectInfo, error) {
	info, err := s.n.HeadObject(ctx, req.GetBucket(), req.GetKey())
	return info, toStatus(err)
}

func (s *server) DeleteObject(ctx context.Context, req *nodepb.DeleteObjectRequest) (*nodepb.DeleteObjectResponse, error) {
	i, err := s.n.DeleteObject(ctx, req.GetBucket(), req.GetKey(), req.GetIfMatchMd5(), req.GetPrincipal())
	if err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.DeleteObjectResponse{Index: i}, nil
}

func (s *server) ListObjects(ctx context.Context, req *nodepb.ListObjectsRequest) (*nodepb.ListObjectsResponse, error) {
	objs, truncated, err := s.n.ListObjects(ctx, req.GetBucket(), req.GetPrefix(), req.GetStartAfter(), int(req.GetLimit()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.ListObjectsResponse{Objects: objs, Truncated: truncated}, nil
}

func (s *server) CreateBucket(ctx context.Context, req *nodepb.CreateBucketRequest) (*nodepb.BucketInfo, error) {
	if err := s.n.CreateBucket(ctx, req.GetBucket(), req.GetPrincipal()); err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.BucketInfo{Bucket: req.GetBucket()}, nil
}

func (s *server) DeleteBucket(ctx context.Context, req *nodepb.DeleteBucketRequest) (*nodepb.DeleteBucketResponse, error) {
	if err := s.n.DeleteBucket(ctx, req.GetBucket(), req.GetPrincipal()); err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.DeleteBucketResponse{}, nil
}

func (s *server) ListBuckets(ctx context.Context, _ *nodepb.ListBucketsRequest) (*nodepb.ListBucketsResponse, error) {
	b, err := s.n.ListBuckets(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.ListBucketsResponse{Buckets: b}, nil
}

func shardID(b []byte) (ecstore.ShardID, error) {
	var id ecstore.ShardID
	if len(b) != len(id) {
		return id, fmt.Errorf("%w: shard id of %d bytes", ErrInvalidArgument, len(b))
	}
	copy(id[:], b)
	return id, nil
}

func (s *server) PutShard(_ context.Context, req *nodepb.PutShardRequest) (*nodepb.PutShardResponse, error) {
	id, err := shardID(req.GetId())
	if err != nil {
		return nil, toStatus(err)
	}
	// A shard is stored under its content address; refuse bytes that do not
	// match it, so a bad sender cannot plant data under another shard's id.
	// A derived parity id cannot be checked here: readers check parity
	// through the data ids it rebuilds, and a deep scrub re-encodes it.
	scheme, err := ecstore.NewIDScheme(req.GetIdKey())
	if err != nil {
		return nil, toStatus(fmt.Errorf("%w: %v", ErrInvalidArgument, err))
	}
	if req.GetDerivedId() {
		if !scheme.DerivesParity() {
			return nil, toStatus(fmt.Errorf("%w: shard %s: a derived id needs an id key", ErrInvalidArgument, id))
		}
		scheme = scheme.Derived()
	}
	if !scheme.Verify(id, req.GetData()) {
		return nil, toStatus(fmt.Errorf("%w: shard %s: data does not match its id", ErrInvalidArgument, id))
	}
	if err := s.n.disks.Put(req.GetDisk(), scheme, id, req.GetData()); err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.PutShardResponse{}, nil
}

func (s *server) GetShard(_ context.Context, req *nodepb.GetShardRequest) (*nodepb.GetShardResponse, error) {
	id, err := shardID(req.GetId())
	if err != nil {
		return nil, toStatus(err)
	}
	data, err := s.n.disks.Get(req.GetDisk(), id)
	if err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.GetShardResponse{Data: data}, nil
}

func (s *server) AddMember(ctx context.Context, req *nodepb.AddMemberRequest) (*nodepb.AddMemberResponse, error) {
	if err := s.n.AddMember(ctx, req.GetNode(), req.GetRaftAddr(), req.GetNonvoter()); err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.AddMemberResponse{}, nil
}

func (s *server) RemoveMember(ctx context.Context, req *nodepb.RemoveMemberRequest) (*nodepb.RemoveMemberResponse, error) {
	if err := s.n.RemoveMember(ctx, req.GetNode()); err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.RemoveMemberResponse{}, nil
}

func (s *server) CreatePool(ctx context.Context, req *nodepb.CreatePoolRequest) (*nodepb.CreatePoolResponse, error) {
	if err := s.n.CreatePool(ctx, req); err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.CreatePoolResponse{}, nil
}

func (s *server) Status(ctx context.Context, _ *nodepb.StatusRequest) (*nodepb.StatusResponse, error) {
	st, err := s.n.Status(ctx)
	return st, toStatus(err)
}

func (s *server) Scrub(ctx context.Context, req *nodepb.ScrubRequest) (*nodepb.ScrubResponse, error) {
	rep, err := s.n.Scrub(ctx, req.GetDeep())
	if err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.ScrubResponse{
		Checked: uint64(rep.Checked), Corrupt: uint64(rep.Corrupt), Missing: uint64(rep.Missing),
		Repaired: uint64(rep.Repaired), Unrepairable: uint64(rep.Unrepairable),
	}, nil
}

var _ io.Reader = (*putStreamReader)(nil)

// Identity (identity.go). Only CreateKey's response carries a secret.

func (s *server) CreateUser(ctx context.Context, req *nodepb.CreateUserRequest) (*nodepb.UserInfo, error) {
	u, err := s.n.CreateUser(ctx, req.GetUser(), req.GetAdmin(), req.GetPrincipal())
	if err != nil {
		return nil, toStatus(err)
	}
	return u, nil
}

func (s *server) DeleteUser(ctx context.Context, req *nodepb.DeleteUserRequest) (*nodepb.DeleteUserResponse, error) {
	if err := s.n.DeleteUser(ctx, req.GetUser(), req.GetPrincipal()); err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.DeleteUserResponse{}, nil
}

func (s *server) ListUsers(ctx context.Context, _ *nodepb.ListUsersRequest) (*nodepb.ListUsersResponse, error) {
	users, err := s.n.ListUsers(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.ListUsersResponse{Users: users}, nil
}

func (s *server) CreateKey(ctx context.Context, req *nodepb.CreateKeyRequest) (*nodepb.CreateKeyResponse, error) {
	resp, err := s.n.CreateKey(ctx, req.GetUser(), req.GetAccessKey(), req.GetSecretKey(), req.GetPrincipal())
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

func (s *server) DeleteKey(ctx context.Context, req *nodepb.DeleteKeyRequest) (*nodepb.DeleteKeyResponse, error) {
	if err := s.n.DeleteKey(ctx, req.GetAccessKey(), req.GetPrincipal()); err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.DeleteKeyResponse{}, nil
}

func (s *server) ListKeys(ctx context.Context, req *nodepb.ListKeysRequest) (*nodepb.ListKeysResponse, error) {
	keys, err := s.n.ListKeys(ctx, req.GetUser())
	if err != nil {
		return nil, toStatus(err)
	}
	return &nodepb.ListKeysResponse{Keys: keys}, nil
}
