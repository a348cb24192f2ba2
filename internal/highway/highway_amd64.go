package highway

import "golang.org/x/sys/cpu"

// The kernels: one, two (AVX2) or four (AVX-512, for its 32 vector
// registers) streams advanced in one loop. n is a positive multiple of
// BlockSize; every pointer has n readable bytes.
//
//go:noescape
func update1AVX2(s *state, p *byte, n int)

//go:noescape
func update2AVX2(s *[2]state, p0, p1 *byte, n int)

//go:noescape
func update4AVX512(s *[4]state, p0, p1, p2, p3 *byte, n int)

var (
	hasAVX2   = cpu.X86.HasAVX2
	hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW
)

// Ways returns how many streams the fastest kernel on this machine
// advances at once: 4, 2, or 1 when there is no vector kernel.
func Ways() int {
	switch {
	case hasAVX512:
		return 4
	case hasAVX2:
		return 2
	}
	return 1
}

// updateMulti advances states[i] by msgs[i], all of one length, a
// positive multiple of BlockSize.
func updateMulti(states []state, msgs [][]byte) {
	if !hasAVX2 {
		updateMultiGeneric(states, msgs)
		return
	}
	n := len(msgs[0])
	for len(states) > 0 {
		switch {
		case len(states) >= 4 && hasAVX512:
			update4AVX512((*[4]state)(states), &msgs[0][0], &msgs[1][0], &msgs[2][0], &msgs[3][0], n)
			states, msgs = states[4:], msgs[4:]
		case len(states) >= 2:
			update2AVX2((*[2]state)(states), &msgs[0][0], &msgs[1][0], n)
			states, msgs = states[2:], msgs[2:]
		default:
			update1AVX2(&states[0], &msgs[0][0], n)
			states, msgs = states[1:], msgs[1:]
		}
	}
}

// update advances s by msg, a positive multiple of BlockSize.
func update(s *state, msg []byte) {
	if !hasAVX2 {
		updateGeneric(s, msg)
		return
	}
	update1AVX2(s, &msg[0], len(msg))
}
