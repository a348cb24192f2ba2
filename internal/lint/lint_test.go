package lint

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/ferrydr/ferry"

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Name       string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// part returns the top-level part of a ferry import path ("journal",
// "raftstore", "internal", "cmd", ...), or "" for other modules.
func part(path string) string {
	rest, ok := strings.CutPrefix(path, module+"/")
	if !ok {
		return ""
	}
	first, _, _ := strings.Cut(rest, "/")
	return first
}

// allowed lists, for each part, the ferry parts it may import. The arrows:
// journal ← raftstore ← sites ← drplan ← {chaos, cmd}; journal, raftstore ←
// gateways; internal imports nothing above it.
var allowed = map[string][]string{
	"internal":  {"internal", "journal"},
	"journal":   {"journal", "internal"},
	"raftstore": {"raftstore", "journal", "internal"},
	"gateways":  {"gateways", "raftstore", "journal", "internal"},
	"sites":     {"sites", "raftstore", "journal", "internal"},
	"drplan":    {"drplan", "sites", "raftstore", "journal", "internal"},
	"chaos":     {"chaos", "drplan", "sites", "gateways", "raftstore", "journal", "internal"},
	"cmd":       {"cmd", "chaos", "drplan", "sites", "gateways", "raftstore", "journal", "internal"},
}

func checkEdges(pkgs []pkg) []string {
	var bad []string
	for _, p := range pkgs {
		from := part(p.ImportPath)
		ok := allowed[from]
		if ok == nil {
			bad = append(bad, p.ImportPath+": not in a known part")
			continue
		}
		for _, imp := range p.Imports {
			to := part(imp)
			if to == "" {
				continue
			}
			// internal/hlc depends on the journal's generated schema only.
			if from == "internal" && to == "journal" && !strings.HasPrefix(imp, module+"/journal/journalpb") {
				bad = append(bad, p.ImportPath+" imports "+imp)
				continue
			}
			permitted := false
			for _, a := range ok {
				permitted = permitted || a == to
			}
			if !permitted {
				bad = append(bad, p.ImportPath+" imports "+imp)
			}
		}
	}
	return bad
}

func TestImportArrows(t *testing.T) {
	for _, b := range checkEdges(listPackages(t)) {
		t.Errorf("forbidden import: %s", b)
	}
}

// TestCheckerFlagsBadEdge proves the checker can fail.
func TestCheckerFlagsBadEdge(t *testing.T) {
	bad := checkEdges([]pkg{
		{ImportPath: module + "/journal", Imports: []string{module + "/raftstore"}},
		{ImportPath: module + "/gateways/s3", Imports: []string{module + "/sites"}},
		{ImportPath: module + "/raftstore", Imports: []string{module + "/journal"}},
	})
	if len(bad) != 2 {
		t.Fatalf("checker reported %v, want the two upward edges", bad)
	}
}

func TestNoTestingInProductionCode(t *testing.T) {
	for _, p := range listPackages(t) {
		for _, imp := range p.Imports {
			if imp == "testing" || strings.HasPrefix(imp, "testing/") {
				if !strings.HasSuffix(p.ImportPath, "test") && !strings.Contains(p.ImportPath, "/internal/lint") {
					t.Errorf("%s imports %s outside a test harness package", p.ImportPath, imp)
				}
			}
		}
	}
}

func TestRaftOnlyInRaftstore(t *testing.T) {
	for _, p := range listPackages(t) {
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "github.com/hashicorp/raft") && part(p.ImportPath) != "raftstore" {
				t.Errorf("%s imports %s; hashicorp/raft stays inside raftstore", p.ImportPath, imp)
			}
		}
	}
}
