package s3load

import (
	"cmp"
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Error kinds that are not S3 error codes.
const (
	KindVerify  = "verify"  // body differs from the generated payload
	KindSize    = "size"    // body length differs from the object size
	KindTimeout = "timeout" // a deadline or network timeout
	KindNetwork = "network" // connection refused, reset, DNS...
	KindOther   = "other"
)

// Classify names the kind of a failed operation's error: the S3 error
// code when the server sent one ("NoSuchKey", "SlowDown",
// "InternalError"), "http-<status>" when it answered without one, else one
// of the Kind constants. It reads types and codes, never message text.
func Classify(err error) string {
	switch {
	case errors.Is(err, ErrMismatch):
		return KindVerify
	case errors.Is(err, ErrSize):
		return KindSize
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	}
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok && apiErr.ErrorCode() != "" {
		return apiErr.ErrorCode()
	}
	if respErr, ok := errors.AsType[*awshttp.ResponseError](err); ok {
		return "http-" + strconv.Itoa(respErr.HTTPStatusCode())
	}
	if netErr, ok := errors.AsType[net.Error](err); ok {
		if netErr.Timeout() {
			return KindTimeout
		}
		return KindNetwork
	}
	return KindOther
}

// ErrorKind counts the failed operations of one kind and keeps the first
// few messages.
type ErrorKind struct {
	Kind    string   `json:"kind"`
	Count   int64    `json:"count"`
	Samples []string `json:"samples"`
}

const (
	maxErrorSamples = 3
	maxSampleBytes  = 300
	maxErrorKinds   = 16 // per worker; further kinds are counted as KindOther
)

// errorLog is one worker's error tally; merged at the end of a phase.
type errorLog struct {
	kinds []ErrorKind
}

func (l *errorLog) add(err error) {
	l.addKind(Classify(err), err.Error())
}

func (l *errorLog) addKind(kind, msg string) {
	i := slices.IndexFunc(l.kinds, func(k ErrorKind) bool { return k.Kind == kind })
	if i < 0 {
		if len(l.kinds) >= maxErrorKinds && kind != KindOther {
			l.addKind(KindOther, kind+": "+msg)
			return
		}
		l.kinds = append(l.kinds, ErrorKind{Kind: kind})
		i = len(l.kinds) - 1
	}
	k := &l.kinds[i]
	k.Count++
	if len(k.Samples) < maxErrorSamples {
		if len(msg) > maxSampleBytes {
			msg = msg[:maxSampleBytes] + "..."
		}
		k.Samples = append(k.Samples, msg)
	}
}

func (l *errorLog) merge(o *errorLog) {
	for _, ok := range o.kinds {
		i := slices.IndexFunc(l.kinds, func(k ErrorKind) bool { return k.Kind == ok.Kind })
		if i < 0 {
			l.kinds = append(l.kinds, ErrorKind{Kind: ok.Kind})
			i = len(l.kinds) - 1
		}
		k := &l.kinds[i]
		k.Count += ok.Count
		for _, s := range ok.Samples {
			if len(k.Samples) < maxErrorSamples {
				k.Samples = append(k.Samples, s)
			}
		}
	}
}

// sorted returns the kinds, most frequent first, ties by name.
func (l *errorLog) sorted() []ErrorKind {
	out := slices.Clone(l.kinds)
	slices.SortFunc(out, func(a, b ErrorKind) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Kind, b.Kind))
	})
	return out
}
