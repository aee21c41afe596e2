// The dihedral rule shared by PDQ and pHash: a variant of an image reads the one DCT transposed and/or with some
// coefficients negated. Reversing an axis negates the coefficients of odd frequency along it; a transposition
// swaps the axes. Variants in PDQ's order: original, rotate90, rotate180, rotate270, flipx, flipy, flipplus1,
// flipminus1. `oddI`/`oddJ`: whether coefficient (i, j) has an odd frequency along each axis.

/** Bit 0: read the coefficient transposed; bit 1: negate it. */
@inline export function dihedralRule(variant: i32, oddI: bool, oddJ: bool): i32 {
  switch (variant) {
    case 1: return 1 | (oddI ? 2 : 0);
    case 2: return oddI != oddJ ? 2 : 0;
    case 3: return 1 | (oddJ ? 2 : 0);
    case 4: return oddI ? 2 : 0;
    case 5: return oddJ ? 2 : 0;
    case 6: return 1;
    case 7: return 1 | (oddI != oddJ ? 2 : 0);
    default: return 0;
  }
}
