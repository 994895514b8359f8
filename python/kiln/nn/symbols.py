"""Named dimensions ("N", "H") through torch, which only knows numbers.

A model or document with named dimensions is run twice, each name replaced by a different
value in each run; a dimension of a result is then read back as a number (equal in both
runs), as a name (equal to that name's value in both runs), or as "?" (it follows the names
some other way, e.g. floor(H/2): the C++ analysis has the expressions, torch does not).
"""


def substitutions(shapes):
    """The two runs' values for the names in ``shapes``: N is 2 then 3 (a small batch), the
    others 32+8k then 64+16k (distinct from each other and large enough for the usual
    kernels; doubling makes floor(H/2) and the like change too)."""
    names = sorted({d for s in shapes for d in (s or []) if isinstance(d, str)},
                   key=lambda n: (n != "N", n))
    runs = ({}, {})
    k = 0
    for name in names:
        if name == "N":
            runs[0][name], runs[1][name] = 2, 3
        else:
            runs[0][name], runs[1][name] = 32 + 8 * k, 64 + 16 * k
            k += 1
    return runs


def concrete(shape, values):
    return [d if isinstance(d, int) else values[d] for d in shape]


def merge_dims(a, b, subs):
    """One dimension from its values in the two runs: a number, a name, or "?"."""
    if a == b:
        return a
    for name in subs[0]:
        if subs[0][name] == a and subs[1][name] == b:
            return name
    return "?"


def merge_shape(a, b, subs):
    return [merge_dims(x, y, subs) for x, y in zip(a, b)]
