"""Capability numbers, from libcap (libcap2, which tests/install-deps.sh brings in with
libcap-dev): the names libcap knows ("CAP_CHOWN": 0, ...), not a table typed here."""

import ctypes
import ctypes.util


def _libcap():
    lib = ctypes.CDLL(ctypes.util.find_library("cap") or "libcap.so.2", use_errno=True)
    lib.cap_from_name.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    lib.cap_from_name.restype = ctypes.c_int
    lib.cap_to_name.argtypes = [ctypes.c_int]
    lib.cap_to_name.restype = ctypes.c_void_p  # a string libcap allocated: cap_free() it
    lib.cap_free.argtypes = [ctypes.c_void_p]
    return lib


_LIB = _libcap()


def cap_number(name):
    """"CAP_SYS_ADMIN" -> 21 (libcap's cap_from_name); KeyError for a name libcap does not know."""
    value = ctypes.c_int()
    if name.isdigit() or _LIB.cap_from_name(name.lower().encode(), ctypes.byref(value)) != 0:
        raise KeyError(name)
    return value.value


def _cap_name(number):
    """libcap's name of capability `number` ("cap_chown"), or its digits for one libcap has no name for."""
    p = _LIB.cap_to_name(number)
    if not p:
        raise OSError(ctypes.get_errno(), f"cap_to_name({number})")
    try:
        return ctypes.string_at(p).decode()
    finally:
        _LIB.cap_free(p)


def _known_caps():
    out = {}
    for number in range(64):
        name = _cap_name(number)
        if name.isdigit():  # past the last capability libcap has a name for
            break
        out[name.upper()] = number
    return out


# Every capability libcap names, "CAP_CHOWN": 0 ... in number order.
CAP_NUMBERS = _known_caps()


def cap_mask(names):
    """The bit mask of capabilities `names` (as /proc/<pid>/status shows CapEff and the others)."""
    mask = 0
    for name in names:
        mask |= 1 << cap_number(name)
    return mask
