package s3err

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestIsComparesCodes(t *testing.T) {
	err := fmt.Errorf("get: %w", ErrNoSuchKey.With("no key %q", "k"))
	if !errors.Is(err, ErrNoSuchKey) {
		t.Fatal("wrapped NoSuchKey is not ErrNoSuchKey")
	}
	if errors.Is(err, ErrNoSuchBucket) {
		t.Fatal("NoSuchKey matched NoSuchBucket")
	}
	if got := As(errors.New("boom")); got.Code != "InternalError" || got.HTTPStatus != 500 {
		t.Fatalf("As(plain) = %v", got)
	}
}

func TestWriteXML(t *testing.T) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/b/k", nil)
	Write(rec, req, ErrNoSuchKey, "req-1")
	if rec.Code != 404 {
		t.Fatalf("status %d", rec.Code)
	}
	var b Body
	if err := xml.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	if b.Code != "NoSuchKey" || b.RequestID != "req-1" || b.Resource != "/b/k" {
		t.Fatalf("body %+v", b)
	}
	rec = httptest.NewRecorder()
	Write(rec, httptest.NewRequest(http.MethodHead, "/b/k", nil), ErrNoSuchKey, "req-2")
	if rec.Code != 404 || rec.Body.Len() != 0 {
		t.Fatalf("HEAD: status %d body %q", rec.Code, rec.Body.String())
	}
}
