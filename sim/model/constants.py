"""Fixed constants of the model's formulas, in one place for the compiled kernels and the numpy phases.

They are properties of the issue scales, not parameters a scenario varies. The compiled kernels read them
at compile time, so this file is one of the kernel sources whose change recompiles every kernel
(:data:`sim.engines.jit.KERNEL_SOURCES`).
"""

#: Smoothing width of the reference-point kink at the contact line, in TERR units (memo §1.3).
KINK_EPS = 0.01
#: Smoothing width of the withdrawal X_T - L in the deal-induced power shift, in TERR units (memo P5).
WITHDRAWAL_EPS = 0.01
#: A withdrawal of this size (the rest of Donetsk, TERR 0.50 -> 0.75) is a full demilitarised zone (memo P5).
DMZ_WIDTH = 0.25
