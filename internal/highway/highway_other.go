//go:build !amd64

package highway

// Ways returns how many streams the fastest kernel on this machine
// advances at once: 1, there is no vector kernel for this architecture.
func Ways() int { return 1 }

func updateMulti(states []state, msgs [][]byte) { updateMultiGeneric(states, msgs) }

func update(s *state, msg []byte) { updateGeneric(s, msg) }
