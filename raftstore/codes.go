package raftstore

import (
	"context"
	"errors"
	"strings"
	"syscall"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ferrydr/ferry/journal"
	"github.com/ferrydr/ferry/raftstore/ecstore"
)

// This file is the one place where error classes and gRPC status codes meet.
// Classes that share a gRPC code are told apart by the status message's
// reason prefix, a stable token (not free text) set by toStatus.

type codeMapping struct {
	class  error
	code   codes.Code
	reason string
}

var codeMappings = []codeMapping{
	{ErrNotLeader, codes.Unavailable, "not-leader"},
	{ErrIndeterminate, codes.Unknown, "indeterminate"},
	{ErrShutdown, codes.Unavailable, "shutdown"},
	{ErrUnavailable, codes.Unavailable, "unavailable"},
	{ErrInvalidArgument, codes.InvalidArgument, "invalid-argument"},
	{ErrNoSuchBucket, codes.NotFound, "no-such-bucket"},
	{ErrNoSuchKey, codes.NotFound, "no-such-key"},
	{ErrNotFound, codes.NotFound, "not-found"},
	{ErrBucketExists, codes.AlreadyExists, "bucket-exists"},
	{ErrExists, codes.AlreadyExists, "exists"},
	{ErrBucketNotEmpty, codes.FailedPrecondition, "bucket-not-empty"},
	{ErrPrecondition, codes.FailedPrecondition, "precondition"},
	{ErrCorrupt, codes.DataLoss, "corrupt"},
	{ErrNoSpace, codes.ResourceExhausted, "no-space"},
	{ErrNoSuchVersion, codes.NotFound, "no-such-version"},
	{ErrNoSuchUpload, codes.NotFound, "no-such-upload"},
	{ErrInvalidPart, codes.InvalidArgument, "invalid-part"},
	{ErrInvalidPartOrder, codes.InvalidArgument, "invalid-part-order"},
	{ErrEntityTooSmall, codes.InvalidArgument, "entity-too-small"},
	{ErrLocked, codes.PermissionDenied, "locked"},
	{ErrDeleteMarker, codes.NotFound, "delete-marker"},
}

// classify folds the error classes of the packages below into raftstore's.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case isClassified(err):
		return err
	case errors.Is(err, syscall.ENOSPC):
		return errors.Join(ErrNoSpace, err)
	case errors.Is(err, ecstore.ErrCorrupt), errors.Is(err, journal.ErrCorrupt):
		return errors.Join(ErrCorrupt, err)
	case errors.Is(err, ecstore.ErrTooFewShards), errors.Is(err, ecstore.ErrTooFewDisks):
		return errors.Join(ErrUnavailable, err)
	case errors.Is(err, ecstore.ErrNotFound):
		return errors.Join(ErrNotFound, err)
	}
	return err
}

// toStatus converts an error into a gRPC status error carrying its class.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok && !isClassified(err) {
		return err
	}
	err = classify(err)
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	var nl *NotLeaderError
	if errors.As(err, &nl) {
		// The leader hint travels as "not-leader: ID ADDR".
		return status.Error(codes.Unavailable, "not-leader: "+nl.LeaderID+" "+nl.LeaderAPIAddr)
	}
	for _, m := range codeMappings {
		if errors.Is(err, m.class) {
			return status.Error(m.code, m.reason+": "+err.Error())
		}
	}
	return status.Error(codes.Internal, err.Error())
}

func isClassified(err error) bool {
	for _, m := range codeMappings {
		if errors.Is(err, m.class) {
			return true
		}
	}
	return false
}

// FromStatus converts a gRPC error from a ferry node back into its class.
// Errors that are not gRPC statuses are returned unchanged.
func FromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	msg := st.Message()
	switch st.Code() {
	case codes.Canceled:
		return errors.Join(context.Canceled, errors.New(msg))
	case codes.DeadlineExceeded:
		return errors.Join(context.DeadlineExceeded, errors.New(msg))
	}
	if rest, ok := strings.CutPrefix(msg, "not-leader: "); ok {
		id, addr, _ := strings.Cut(rest, " ")
		return &NotLeaderError{LeaderID: id, LeaderAPIAddr: addr}
	}
	for _, m := range codeMappings {
		if st.Code() != m.code {
			continue
		}
		if rest, ok := strings.CutPrefix(msg, m.reason+": "); ok {
			return &remoteError{class: m.class, msg: rest}
		}
	}
	if st.Code() == codes.Unavailable {
		return &remoteError{class: ErrUnavailable, msg: msg}
	}
	return err
}

// remoteError is an error that came back from another node.
type remoteError struct {
	class error
	msg   string
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.class }
