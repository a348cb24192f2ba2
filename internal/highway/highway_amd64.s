#include "textflag.h"

// The byte shuffle of HighwayHash's zipper merge, for both 128-bit lanes.
DATA zipperMerge<>+0x00(SB)/8, $0x000f010e05020c03
DATA zipperMerge<>+0x08(SB)/8, $0x070806090d0a040b
DATA zipperMerge<>+0x10(SB)/8, $0x000f010e05020c03
DATA zipperMerge<>+0x18(SB)/8, $0x070806090d0a040b
GLOBL zipperMerge<>(SB), (NOPTR+RODATA), $32

// UPDATE advances one stream, whose state is in v0 v1 mul0 mul1, by the
// 32-byte packet msg; t is scratch and Y5 holds zipperMerge.
//   v1 += msg + mul0; mul0 ^= (v0 >> 32) * uint32(v1)
//   v0 += mul1;       mul1 ^= (v1 >> 32) * uint32(v0)
//   v0 += zipper(v1); v1 += zipper(v0)
#define UPDATE(msg, v0, v1, mul0, mul1, t) \
	VPADDQ   msg, v1, v1     \
	VPADDQ   mul0, v1, v1    \
	VPSRLQ   $32, v0, t      \
	VPMULUDQ v1, t, t        \
	VPXOR    t, mul0, mul0   \
	VPADDQ   mul1, v0, v0    \
	VPSRLQ   $32, v1, t      \
	VPMULUDQ v0, t, t        \
	VPXOR    t, mul1, mul1   \
	VPSHUFB  Y5, v1, t       \
	VPADDQ   t, v0, v0       \
	VPSHUFB  Y5, v0, t       \
	VPADDQ   t, v1, v1

// The same with EVEX encodings, which reach Y16-Y31.
#define UPDATE512(msg, v0, v1, mul0, mul1, t) \
	VPADDQ   msg, v1, v1     \
	VPADDQ   mul0, v1, v1    \
	VPSRLQ   $32, v0, t      \
	VPMULUDQ v1, t, t        \
	VPXORQ   t, mul0, mul0   \
	VPADDQ   mul1, v0, v0    \
	VPSRLQ   $32, v1, t      \
	VPMULUDQ v0, t, t        \
	VPXORQ   t, mul1, mul1   \
	VPSHUFB  Y5, v1, t       \
	VPADDQ   t, v0, v0       \
	VPSHUFB  Y5, v0, t       \
	VPADDQ   t, v1, v1

// func update1AVX2(s *state, p *byte, n int)
TEXT ·update1AVX2(SB), NOSPLIT, $0-24
	MOVQ s+0(FP), AX
	MOVQ p+8(FP), BX
	MOVQ n+16(FP), CX
	VMOVDQU 0(AX), Y1
	VMOVDQU 32(AX), Y2
	VMOVDQU 64(AX), Y3
	VMOVDQU 96(AX), Y4
	VMOVDQU zipperMerge<>(SB), Y5

loop1:
	VMOVDQU 0(BX), Y0
	UPDATE(Y0, Y1, Y2, Y3, Y4, Y6)
	ADDQ $32, BX
	SUBQ $32, CX
	JA   loop1

	VMOVDQU Y1, 0(AX)
	VMOVDQU Y2, 32(AX)
	VMOVDQU Y3, 64(AX)
	VMOVDQU Y4, 96(AX)
	VZEROUPPER
	RET

// func update2AVX2(s *[2]state, p0, p1 *byte, n int)
TEXT ·update2AVX2(SB), NOSPLIT, $0-32
	MOVQ s+0(FP), AX
	MOVQ p0+8(FP), BX
	MOVQ p1+16(FP), SI
	MOVQ n+24(FP), CX
	VMOVDQU 0(AX), Y1
	VMOVDQU 32(AX), Y2
	VMOVDQU 64(AX), Y3
	VMOVDQU 96(AX), Y4
	VMOVDQU 128(AX), Y7
	VMOVDQU 160(AX), Y8
	VMOVDQU 192(AX), Y9
	VMOVDQU 224(AX), Y10
	VMOVDQU zipperMerge<>(SB), Y5

loop2:
	VMOVDQU 0(BX), Y0
	VMOVDQU 0(SI), Y11
	UPDATE(Y0, Y1, Y2, Y3, Y4, Y6)
	UPDATE(Y11, Y7, Y8, Y9, Y10, Y12)
	ADDQ $32, BX
	ADDQ $32, SI
	SUBQ $32, CX
	JA   loop2

	VMOVDQU Y1, 0(AX)
	VMOVDQU Y2, 32(AX)
	VMOVDQU Y3, 64(AX)
	VMOVDQU Y4, 96(AX)
	VMOVDQU Y7, 128(AX)
	VMOVDQU Y8, 160(AX)
	VMOVDQU Y9, 192(AX)
	VMOVDQU Y10, 224(AX)
	VZEROUPPER
	RET

// func update4AVX512(s *[4]state, p0, p1, p2, p3 *byte, n int)
TEXT ·update4AVX512(SB), NOSPLIT, $0-48
	MOVQ s+0(FP), AX
	MOVQ p0+8(FP), BX
	MOVQ p1+16(FP), SI
	MOVQ p2+24(FP), DI
	MOVQ p3+32(FP), R8
	MOVQ n+40(FP), CX
	VMOVDQU64 0(AX), Y1
	VMOVDQU64 32(AX), Y2
	VMOVDQU64 64(AX), Y3
	VMOVDQU64 96(AX), Y4
	VMOVDQU64 128(AX), Y7
	VMOVDQU64 160(AX), Y8
	VMOVDQU64 192(AX), Y9
	VMOVDQU64 224(AX), Y10
	VMOVDQU64 256(AX), Y11
	VMOVDQU64 288(AX), Y12
	VMOVDQU64 320(AX), Y13
	VMOVDQU64 352(AX), Y14
	VMOVDQU64 384(AX), Y16
	VMOVDQU64 416(AX), Y17
	VMOVDQU64 448(AX), Y18
	VMOVDQU64 480(AX), Y19
	VMOVDQU64 zipperMerge<>(SB), Y5

loop4:
	VMOVDQU64 0(BX), Y0
	VMOVDQU64 0(SI), Y15
	VMOVDQU64 0(DI), Y20
	VMOVDQU64 0(R8), Y21
	UPDATE512(Y0, Y1, Y2, Y3, Y4, Y6)
	UPDATE512(Y15, Y7, Y8, Y9, Y10, Y22)
	UPDATE512(Y20, Y11, Y12, Y13, Y14, Y23)
	UPDATE512(Y21, Y16, Y17, Y18, Y19, Y24)
	ADDQ $32, BX
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	SUBQ $32, CX
	JA   loop4

	VMOVDQU64 Y1, 0(AX)
	VMOVDQU64 Y2, 32(AX)
	VMOVDQU64 Y3, 64(AX)
	VMOVDQU64 Y4, 96(AX)
	VMOVDQU64 Y7, 128(AX)
	VMOVDQU64 Y8, 160(AX)
	VMOVDQU64 Y9, 192(AX)
	VMOVDQU64 Y10, 224(AX)
	VMOVDQU64 Y11, 256(AX)
	VMOVDQU64 Y12, 288(AX)
	VMOVDQU64 Y13, 320(AX)
	VMOVDQU64 Y14, 352(AX)
	VMOVDQU64 Y16, 384(AX)
	VMOVDQU64 Y17, 416(AX)
	VMOVDQU64 Y18, 448(AX)
	VMOVDQU64 Y19, 480(AX)
	VZEROUPPER
	RET
