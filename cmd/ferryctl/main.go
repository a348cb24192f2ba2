// Command ferryctl is ferry's operator CLI.
//
//	ferryctl [--addr ADDR] [--json] [--timeout D] COMMAND ...
//
// Commands:
//
//	status                      nodes, leader, term, commit index, journal range, pools
//	members add NODE RAFTADDR   add a voter (--nonvoter for a non-voter)
//	members remove NODE         remove a member
//	bucket create|rm BUCKET     create or delete (empty) a bucket
//	bucket ls                   list buckets
//	obj put BUCKET/KEY FILE     upload FILE ("-" for standard input)
//	obj get BUCKET/KEY FILE     download to FILE ("-" for standard output)
//	obj ls BUCKET[/PREFIX]      list objects
//	obj rm BUCKET/KEY           delete an object
//	pool create NAME [--profile K+M] [--disks NODE/DISK,...] [--stripe-bytes N]
//	                            add a pool that takes new writes (default 4+2 over every disk)
//	pool ls                     list pools
//	scrub [--deep]              verify and repair the node's shards now
//	user create NAME [--admin]  create a user of the S3 gateways
//	user ls                     list users
//	user rm NAME                delete a user that has no access keys left
//	key create USER [--access-key K] [--secret-key S|-]
//	                            create an access key; prints the secret once
//	key ls [USER]               list access keys (never their secrets)
//	key rm ACCESS_KEY           delete an access key
//
// The node is --addr, else $FERRY_ADDR, else 127.0.0.1:7400.
//
// Exit codes: 0 success; 1 other error; 2 usage; 3 not found; 4 conflict
// or failed precondition; 5 site unavailable (no leader, too few nodes or
// disks, timeout); 6 corrupt data.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// Exit codes.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitNotFound    = 3
	exitConflict    = 4
	exitUnavailable = 5
	exitCorrupt     = 6
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type cli struct {
	client  nodepb.NodeClient
	json    bool
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	timeout time.Duration
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usage(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ferryctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "node API address (default $FERRY_ADDR, else 127.0.0.1:7400)")
	asJSON := fs.Bool("json", false, "print JSON")
	timeout := fs.Duration("timeout", 30*time.Second, "how long one command may take")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ferryctl [--addr ADDR] [--json] [--timeout D] COMMAND ...")
		fmt.Fprintln(stderr, "commands: status | members add NODE RAFTADDR [--nonvoter] | members remove NODE |")
		fmt.Fprintln(stderr, "  bucket create|rm BUCKET | bucket ls | obj put BUCKET/KEY FILE | obj get BUCKET/KEY FILE |")
		fmt.Fprintln(stderr, "  obj ls BUCKET[/PREFIX] | obj rm BUCKET/KEY | pool create NAME [--profile K+M] [--disks N/D,...] |")
		fmt.Fprintln(stderr, "  pool ls | scrub [--deep] |")
		fmt.Fprintln(stderr, "  "+userUsage+" |")
		fmt.Fprintln(stderr, "  "+keyUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	target := *addr
	if target == "" {
		target = os.Getenv("FERRY_ADDR")
	}
	if target == "" {
		target = "127.0.0.1:7400"
	}
	conn, err := raftstore.Dial(target)
	if err != nil {
		fmt.Fprintln(stderr, "ferryctl:", err)
		return exitUnavailable
	}
	defer conn.Close()
	c := &cli{client: nodepb.NewNodeClient(conn), json: *asJSON, stdin: stdin, stdout: stdout, stderr: stderr, timeout: *timeout}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	err = c.dispatch(ctx, fs.Args())
	if err == nil {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "ferryctl:", ue.msg)
		fs.Usage()
		return exitUsage
	}
	err = raftstore.FromStatus(err)
	fmt.Fprintln(stderr, "ferryctl:", err)
	return exitCode(err)
}

func exitCode(err error) int {
	switch {
	case errors.Is(err, raftstore.ErrNoSuchBucket), errors.Is(err, raftstore.ErrNoSuchKey), errors.Is(err, raftstore.ErrNotFound), errors.Is(err, os.ErrNotExist):
		return exitNotFound
	case errors.Is(err, raftstore.ErrBucketExists), errors.Is(err, raftstore.ErrBucketNotEmpty), errors.Is(err, raftstore.ErrPrecondition),
		errors.Is(err, raftstore.ErrExists):
		return exitConflict
	case errors.Is(err, raftstore.ErrUnavailable), errors.Is(err, raftstore.ErrNotLeader), errors.Is(err, raftstore.ErrShutdown),
		errors.Is(err, context.DeadlineExceeded):
		return exitUnavailable
	case errors.Is(err, raftstore.ErrInvalidArgument):
		return exitUsage
	case errors.Is(err, raftstore.ErrCorrupt):
		return exitCorrupt
	}
	return exitError
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	cmd, rest := args[0], args[1:]
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch {
	case cmd == "status" && len(rest) == 0:
		return c.status(ctx)
	case cmd == "members" && sub == "add":
		return c.membersAdd(ctx, rest[1:])
	case cmd == "members" && sub == "remove" && len(rest) == 2:
		_, err := c.client.RemoveMember(ctx, &nodepb.RemoveMemberRequest{Node: rest[1]})
		return c.done(err, "removed %s", rest[1])
	case cmd == "bucket" && sub == "create" && len(rest) == 2:
		_, err := c.client.CreateBucket(ctx, &nodepb.CreateBucketRequest{Bucket: rest[1], Principal: principal()})
		return c.done(err, "created bucket %s", rest[1])
	case cmd == "bucket" && sub == "rm" && len(rest) == 2:
		_, err := c.client.DeleteBucket(ctx, &nodepb.DeleteBucketRequest{Bucket: rest[1], Principal: principal()})
		return c.done(err, "deleted bucket %s", rest[1])
	case cmd == "bucket" && sub == "ls" && len(rest) == 1:
		return c.bucketLs(ctx)
	case cmd == "obj" && sub == "put" && len(rest) == 3:
		return c.objPut(ctx, rest[1], rest[2])
	case cmd == "obj" && sub == "get" && len(rest) == 3:
		return c.objGet(ctx, rest[1], rest[2])
	case cmd == "obj" && sub == "ls" && len(rest) == 2:
		return c.objLs(ctx, rest[1])
	case cmd == "obj" && sub == "rm" && len(rest) == 2:
		b, k, err := splitObject(rest[1])
		if err != nil {
			return err
		}
		_, err = c.client.DeleteObject(ctx, &nodepb.DeleteObjectRequest{Bucket: b, Key: k, Principal: principal()})
		return c.done(err, "deleted %s/%s", b, k)
	case cmd == "pool" && sub == "create":
		return c.poolCreate(ctx, rest[1:])
	case cmd == "pool" && sub == "ls" && len(rest) == 1:
		return c.poolLs(ctx)
	case cmd == "scrub":
		return c.scrub(ctx, rest)
	case cmd == "user":
		return c.user(ctx, rest)
	case cmd == "key":
		return c.key(ctx, rest)
	}
	return usage("unknown command %q", strings.Join(args, " "))
}

func principal() string {
	if u := os.Getenv("USER"); u != "" {
		return "ferryctl:" + u
	}
	return "ferryctl"
}

// done prints a confirmation (or a JSON {"ok":true}) for a command without
// other output.
func (c *cli) done(err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(map[string]any{"ok": true, "message": fmt.Sprintf(format, args...)})
	}
	fmt.Fprintf(c.stdout, format+"\n", args...)
	return nil
}

func (c *cli) printJSON(v any) error {
	if m, ok := v.(proto.Message); ok {
		b, err := protojson.MarshalOptions{Multiline: true, EmitUnpopulated: true}.Marshal(m)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.stdout, "%s\n", b)
		return err
	}
	if list, ok := v.([]*nodepb.ObjectInfo); ok {
		raw := make([]json.RawMessage, len(list))
		for i, o := range list {
			b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(o)
			if err != nil {
				return err
			}
			raw[i] = b
		}
		v = raw
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func splitObject(s string) (bucket, key string, err error) {
	b, k, ok := strings.Cut(s, "/")
	if !ok || b == "" || k == "" {
		return "", "", usage("want BUCKET/KEY, got %q", s)
	}
	return b, k, nil
}

func (c *cli) membersAdd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("members add", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	nonvoter := fs.Bool("nonvoter", false, "add as a non-voter")
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
		return usage("members add NODE RAFTADDR [--nonvoter]")
	}
	_, err := c.client.AddMember(ctx, &nodepb.AddMemberRequest{Node: fs.Arg(0), RaftAddr: fs.Arg(1), Nonvoter: *nonvoter})
	return c.done(err, "added %s at %s", fs.Arg(0), fs.Arg(1))
}

func (c *cli) status(ctx context.Context) error {
	st, err := c.client.Status(ctx, &nodepb.StatusRequest{})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(st)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "node\t%s (%s)\n", st.GetNode(), st.GetState())
	fmt.Fprintf(w, "site\t%s\n", st.GetSite())
	fmt.Fprintf(w, "leader\t%s %s\n", orDash(st.GetLeader()), st.GetLeaderApiAddr())
	fmt.Fprintf(w, "term\t%d\n", st.GetTerm())
	fmt.Fprintf(w, "commit index\t%d (applied %d, last snapshot %d)\n", st.GetCommitIndex(), st.GetAppliedIndex(), st.GetLastSnapshotIndex())
	fmt.Fprintf(w, "journal\t%d..%d\n", st.GetJournalFirst(), st.GetJournalLast())
	fmt.Fprintf(w, "objects\t%d\n", st.GetObjects())
	if st.GetApplyError() != "" {
		fmt.Fprintf(w, "APPLY STALLED\t%s\n", st.GetApplyError())
	}
	w.Flush()
	fmt.Fprintln(c.stdout, "\nMEMBERS")
	w = tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NODE\tROLE\tRAFT\tAPI")
	for _, m := range st.GetMembers() {
		role := "voter"
		if !m.GetVoter() {
			role = "nonvoter"
		}
		if m.GetLeader() {
			role += ",leader"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", m.GetNode(), role, m.GetRaftAddr(), orDash(m.GetApiAddr()))
	}
	w.Flush()
	fmt.Fprintln(c.stdout, "\nPOOLS")
	w = tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "POOL\tPROFILE\tACTIVE\tDISKS\tOFFLINE")
	for _, p := range st.GetPools() {
		var offline []string
		for _, d := range p.GetDisks() {
			if !d.GetOnline() {
				offline = append(offline, d.GetNode()+"/"+d.GetDisk())
			}
		}
		fmt.Fprintf(w, "%s\t%d+%d\t%v\t%d\t%s\n", p.GetPool(), p.GetDataShards(), p.GetParityShards(), p.GetActive(), len(p.GetDisks()), orDash(strings.Join(offline, ",")))
	}
	return w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (c *cli) bucketLs(ctx context.Context) error {
	resp, err := c.client.ListBuckets(ctx, &nodepb.ListBucketsRequest{})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	for _, b := range resp.GetBuckets() {
		fmt.Fprintf(c.stdout, "%s  %s\n", time.Unix(0, b.GetCreatedUnixNanos()).UTC().Format(time.RFC3339), b.GetBucket())
	}
	return nil
}

func (c *cli) objPut(ctx context.Context, obj, file string) error {
	b, k, err := splitObject(obj)
	if err != nil {
		return err
	}
	var r io.Reader = c.stdin
	size := int64(-1)
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		r = f
	}
	stream, err := c.client.PutObject(ctx)
	if err != nil {
		return err
	}
	hdr := &nodepb.PutObjectHeader{Bucket: b, Key: k, Size: size, Principal: principal()}
	if err := stream.Send(&nodepb.PutObjectRequest{Msg: &nodepb.PutObjectRequest_Header{Header: hdr}}); err != nil {
		_, rerr := stream.CloseAndRecv()
		return errors.Join(rerr, err)
	}
	buf := make([]byte, 1<<20)
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			if err := stream.Send(&nodepb.PutObjectRequest{Msg: &nodepb.PutObjectRequest_Data{Data: buf[:n]}}); err != nil {
				// The server ended the stream; its status says why.
				_, serr := stream.CloseAndRecv()
				if serr != nil {
					return serr
				}
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("read %s: %w", file, rerr)
		}
	}
	info, err := stream.CloseAndRecv()
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(info)
	}
	fmt.Fprintf(c.stdout, "put %s/%s: %d bytes, md5 %x, index %d\n", b, k, info.GetSize(), info.GetMd5(), info.GetIndex())
	return nil
}

func (c *cli) objGet(ctx context.Context, obj, file string) (err error) {
	b, k, err := splitObject(obj)
	if err != nil {
		return err
	}
	stream, err := c.client.GetObject(ctx, &nodepb.GetObjectRequest{Bucket: b, Key: k, Length: -1})
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	info := first.GetInfo()
	if info == nil {
		return fmt.Errorf("node sent data before the object's description")
	}
	var w io.Writer = c.stdout
	var tmp *os.File
	if file != "-" {
		// Write to a temporary file beside FILE and rename on success, so an
		// interrupted download never leaves a partial FILE.
		tmp, err = os.CreateTemp(filepath.Dir(file), ".ferryctl-*")
		if err != nil {
			return err
		}
		defer func() {
			if err != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		w = tmp
	}
	var n int64
	for {
		msg, rerr := stream.Recv()
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
		m, werr := w.Write(msg.GetData())
		n += int64(m)
		if werr != nil {
			return werr
		}
	}
	if n != info.GetSize() {
		return fmt.Errorf("%w: got %d bytes of %d", raftstore.ErrUnavailable, n, info.GetSize())
	}
	if tmp != nil {
		if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), file); err != nil {
			return err
		}
	}
	if c.json && file != "-" {
		return c.printJSON(info)
	}
	if file != "-" {
		fmt.Fprintf(c.stdout, "got %s/%s: %d bytes into %s\n", b, k, n, file)
	}
	return nil
}

func (c *cli) objLs(ctx context.Context, arg string) error {
	b, prefix, _ := strings.Cut(arg, "/")
	var all []*nodepb.ObjectInfo
	after := ""
	for {
		resp, err := c.client.ListObjects(ctx, &nodepb.ListObjectsRequest{Bucket: b, Prefix: prefix, StartAfter: after})
		if err != nil {
			return err
		}
		all = append(all, resp.GetObjects()...)
		if !resp.GetTruncated() || len(resp.GetObjects()) == 0 {
			break
		}
		after = resp.GetObjects()[len(resp.GetObjects())-1].GetKey()
	}
	if c.json {
		if all == nil {
			all = []*nodepb.ObjectInfo{}
		}
		return c.printJSON(all)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	for _, o := range all {
		fmt.Fprintf(w, "%s\t%d\t%x\t%s\n", time.Unix(0, o.GetMtimeUnixNanos()).UTC().Format(time.RFC3339), o.GetSize(), o.GetMd5(), o.GetKey())
	}
	return w.Flush()
}

func (c *cli) scrub(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("scrub", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	deep := fs.Bool("deep", false, "also verify content hashes")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return usage("scrub [--deep]")
	}
	resp, err := c.client.Scrub(ctx, &nodepb.ScrubRequest{Deep: *deep})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	fmt.Fprintf(c.stdout, "checked %d, corrupt %d, missing %d, repaired %d, unrepairable %d\n",
		resp.GetChecked(), resp.GetCorrupt(), resp.GetMissing(), resp.GetRepaired(), resp.GetUnrepairable())
	return nil
}

func (c *cli) poolCreate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("pool create", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	profile := fs.String("profile", "4+2", "erasure-coding profile K+M")
	disks := fs.String("disks", "", "comma-separated NODE/DISK list (default: every registered disk, now and later)")
	stripe := fs.Uint("stripe-bytes", 0, "payload per stripe (default: the node's)")
	if len(args) == 0 {
		return usage("pool create NAME [--profile K+M] [--disks NODE/DISK,...]")
	}
	name := args[0]
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return usage("pool create NAME [--profile K+M] [--disks NODE/DISK,...]")
	}
	var k, m uint32
	if _, err := fmt.Sscanf(*profile, "%d+%d", &k, &m); err != nil {
		return usage("profile %q: want K+M, e.g. 4+2", *profile)
	}
	req := &nodepb.CreatePoolRequest{Pool: name, DataShards: k, ParityShards: m, StripeSize: uint32(*stripe), Principal: principal()}
	if *disks != "" {
		for _, d := range strings.Split(*disks, ",") {
			node, disk, ok := strings.Cut(strings.TrimSpace(d), "/")
			if !ok || node == "" || disk == "" {
				return usage("disk %q: want NODE/DISK", d)
			}
			req.Disks = append(req.Disks, &journalpb.ShardLocation{Node: node, Disk: disk})
		}
	}
	_, err := c.client.CreatePool(ctx, req)
	return c.done(err, "created pool %s (%d+%d); it takes new writes", name, k, m)
}

func (c *cli) poolLs(ctx context.Context) error {
	st, err := c.client.Status(ctx, &nodepb.StatusRequest{})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(&nodepb.StatusResponse{Pools: st.GetPools()})
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "POOL\tPROFILE\tACTIVE\tDISKS")
	for _, p := range st.GetPools() {
		var disks []string
		for _, d := range p.GetDisks() {
			disks = append(disks, d.GetNode()+"/"+d.GetDisk())
		}
		fmt.Fprintf(w, "%s\t%d+%d\t%v\t%s\n", p.GetPool(), p.GetDataShards(), p.GetParityShards(), p.GetActive(), strings.Join(disks, ","))
	}
	return w.Flush()
}
