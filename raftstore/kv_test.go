package raftstore

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKvTxMatchesModel drives write transactions (with their read cache,
// savepoints and rollbacks, and commits) with random operations over a
// small key space, values on both sides of cacheMaxValue, and checks every
// read against a map; each commit is checked again from a fresh
// transaction, so a stale cache entry shows up either way.
func TestKvTxMatchesModel(t *testing.T) {
	s := uint64(time.Now().UnixNano())
	if f := flag.Lookup("raftstore.seed"); f != nil {
		if v := f.Value.(flag.Getter).Get().(uint64); v != 0 {
			s = v
		}
	}
	t.Logf("seed %d (rerun with -raftstore.seed=%d)", s, s)
	rng := rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))

	x, err := openIndex(filepath.Join(t.TempDir(), "index"), indexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.close()
	committed := map[string][]byte{}
	bkt := []byte("objects")
	for round := range 60 {
		model := map[string][]byte{}
		for k, v := range committed {
			model[k] = v
		}
		var save map[string][]byte // the model at the savepoint
		tx := x.begin()
		b := tx.Bucket(bkt)
		for op := range 200 {
			key := fmt.Sprintf("%c%d", 'a'+rng.IntN(3), rng.IntN(8))
			where := fmt.Sprintf("round %d op %d key %s", round, op, key)
			switch r := rng.IntN(100); {
			case r < 40:
				got := b.Get([]byte(key))
				want, ok := model[key]
				if ok != (got != nil) || !bytes.Equal(got, want) {
					t.Fatalf("%s: Get = %d bytes (present %v), want %d bytes (present %v)", where, len(got), got != nil, len(want), ok)
				}
				if got != nil && len(got) > 0 {
					got[0] ^= 0xff // callers own what Get returns
				}
			case r < 70:
				v := bytes.Repeat([]byte{byte(rng.IntN(256))}, rng.IntN(2*cacheMaxValue))
				if err := b.Put([]byte(key), v); err != nil {
					t.Fatal(err)
				}
				model[key] = bytes.Clone(v)
				if len(v) > 0 {
					v[0] ^= 0xff // Put copies
				}
			case r < 85:
				if err := b.Delete([]byte(key)); err != nil {
					t.Fatal(err)
				}
				delete(model, key)
			case r < 88:
				p := key[:1]
				if err := b.DeletePrefix([]byte(p)); err != nil {
					t.Fatal(err)
				}
				for k := range model {
					if strings.HasPrefix(k, p) {
						delete(model, k)
					}
				}
			case r < 95:
				tx.savepoint()
				save = map[string][]byte{}
				for k, v := range model {
					save[k] = v
				}
			default:
				if save == nil {
					continue
				}
				if err := tx.rollbackToSavepoint(); err != nil {
					t.Fatal(err)
				}
				model = map[string][]byte{}
				for k, v := range save {
					model[k] = v
				}
			}
		}
		if rng.IntN(4) == 0 {
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := x.commit(tx); err != nil {
			t.Fatal(err)
		}
		committed = model
		if err := x.view(func(tx *kvTx) error {
			seen := 0
			err := tx.Bucket(bkt).ForEach(func(k, v []byte) error {
				seen++
				if want, ok := committed[string(k)]; !ok || !bytes.Equal(v, want) {
					return fmt.Errorf("round %d: committed %s = %d bytes, want %d (present %v)", round, k, len(v), len(want), ok)
				}
				return nil
			})
			if err == nil && seen != len(committed) {
				err = fmt.Errorf("round %d: %d keys committed, want %d", round, seen, len(committed))
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}
