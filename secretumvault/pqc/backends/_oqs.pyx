# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible = True
"""Native core: typed ML-KEM, ML-DSA and SLH-DSA key classes over liboqs.

Contracts (docs/design.md, "The native core"):

* single calls keep the GIL (they are short); batch calls release it once for
  the whole batch; ML-DSA sign/verify release it for messages of
  ``RELEASE_GIL_FROM`` bytes or more (see "the GIL" below); every SLH-DSA
  key generation, secret-key check, sign and verify releases it (they are long);
* inputs are any C-contiguous buffer, read in place; key material is copied
  once into memory the key owns, and checked there (never re-read);
* outputs are ``bytes`` allocated once at their final size and filled by liboqs;
* secret keys live in memory owned by their object, wiped with
  ``OQS_MEM_cleanse`` when it dies, and leave only through ``to_bytes()``
  and ``seed_bytes()``;
* bad input raises an exception from ``secretumvault.errors`` naming what was
  expected. liboqs is never handed a buffer of the wrong size.

Layout: ``_Mechanism`` (one parameter set: the liboqs handle and the key
factories), ``_Key``, ``_PublicKey`` and ``_SecretKey`` hold what ML-KEM and
ML-DSA share; ``KemMechanism``/``SigMechanism`` and their key classes add the
operations. ML-DSA's seeds, deterministic signing, external mu, HashML-DSA
and the expanded-key consistency check go through mldsa-native's own entry
points inside liboqs (csrc/sv_mldsa.c), where the build found them.
Only ``secretumvault.pqc.backends.oqs`` imports this module.

Free-threaded CPython (3.14t): declared compatible, so importing it leaves the
GIL off. What makes that safe: module state is set once at import (liboqs's
init and CPU-feature probe, the getrandom hook, the mldsa-native probe) before
any other thread can reach the module; mechanisms hold only what
``OQS_KEM_new``/``OQS_SIG_new`` filled in, and ``_instances`` is a dict
(``setdefault`` is atomic; a racing loser's handle is freed); key objects are
immutable once made (their buffers are written only before the key is handed
out); every call works on memory it owns or on buffers it holds exported.
"""

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset

import hashlib
import hmac

from secretumvault.errors import (
    InvalidArgument,
    InvalidCiphertext,
    InvalidKey,
    InvalidSignature,
    InvalidType,
    NativeError,
    UnsupportedAlgorithm,
)
from secretumvault.pqc._buffers import VERIFY_ITEM, as_item, as_list, describe, refuse_pickle, shown_name
from secretumvault.pqc import keys as _abc
from secretumvault.pqc.keys import Encapsulation, KemKeyPair, SigKeyPair
from secretumvault.pqc.params import SLH_DSA_NAMES, kem_params, sig_params
from secretumvault.pqc.prehash import formatted_message, prehash


cdef extern from "oqs/oqs.h" nogil:
    ctypedef enum OQS_STATUS:
        OQS_ERROR
        OQS_SUCCESS

    ctypedef struct OQS_KEM:
        const char *method_name
        size_t length_public_key
        size_t length_secret_key
        size_t length_ciphertext
        size_t length_shared_secret
        size_t length_keypair_seed
        size_t length_encaps_seed

    ctypedef struct OQS_SIG:
        const char *method_name
        bint sig_with_ctx_support
        size_t length_public_key
        size_t length_secret_key
        size_t length_signature

    ctypedef enum OQS_CPU_EXT:
        OQS_CPU_EXT_ADX
        OQS_CPU_EXT_AES
        OQS_CPU_EXT_AVX
        OQS_CPU_EXT_AVX2
        OQS_CPU_EXT_AVX512
        OQS_CPU_EXT_BMI1
        OQS_CPU_EXT_BMI2
        OQS_CPU_EXT_PCLMULQDQ
        OQS_CPU_EXT_POPCNT
        OQS_CPU_EXT_SSE2
        OQS_CPU_EXT_ARM_NEON
        OQS_CPU_EXT_ARM_SHA3

    void OQS_init()
    const char *OQS_version()
    int OQS_CPU_has_extension(OQS_CPU_EXT ext)
    void OQS_MEM_cleanse(void *ptr, size_t len)
    void OQS_randombytes(uint8_t *random_array, size_t bytes_to_read)

    OQS_KEM *OQS_KEM_new(const char *method_name)
    void OQS_KEM_free(OQS_KEM *kem)
    OQS_STATUS OQS_KEM_keypair_derand(const OQS_KEM *kem, uint8_t *public_key, uint8_t *secret_key,
                                      const uint8_t *seed)
    OQS_STATUS OQS_KEM_encaps(const OQS_KEM *kem, uint8_t *ciphertext, uint8_t *shared_secret,
                              const uint8_t *public_key)
    OQS_STATUS OQS_KEM_encaps_derand(const OQS_KEM *kem, uint8_t *ciphertext, uint8_t *shared_secret,
                                     const uint8_t *public_key, const uint8_t *seed)
    OQS_STATUS OQS_KEM_decaps(const OQS_KEM *kem, uint8_t *shared_secret, const uint8_t *ciphertext,
                              const uint8_t *secret_key)

    OQS_SIG *OQS_SIG_new(const char *method_name)
    void OQS_SIG_free(OQS_SIG *sig)
    OQS_STATUS OQS_SIG_keypair(const OQS_SIG *sig, uint8_t *public_key, uint8_t *secret_key)
    OQS_STATUS OQS_SIG_sign_with_ctx_str(const OQS_SIG *sig, uint8_t *signature, size_t *signature_len,
                                         const uint8_t *message, size_t message_len,
                                         const uint8_t *ctx_str, size_t ctx_str_len,
                                         const uint8_t *secret_key)
    OQS_STATUS OQS_SIG_verify_with_ctx_str(const OQS_SIG *sig, const uint8_t *message, size_t message_len,
                                           const uint8_t *signature, size_t signature_len,
                                           const uint8_t *ctx_str, size_t ctx_str_len,
                                           const uint8_t *public_key)


cdef extern from "sv_glue.h" nogil:
    int sv_mlkem_ek_is_canonical(const uint8_t *ek, size_t ek_len)
    size_t sv_kem_encaps_batch(const OQS_KEM *kem, size_t n, uint8_t **ciphertexts,
                               uint8_t **shared_secrets, const uint8_t **public_keys,
                               OQS_STATUS *status)
    size_t sv_kem_decaps_batch(const OQS_KEM *kem, size_t n, uint8_t **shared_secrets,
                               const uint8_t **ciphertexts, const uint8_t *secret_key,
                               OQS_STATUS *status)
    size_t sv_sig_verify_batch(const OQS_SIG *sig, size_t n, const uint8_t **messages,
                               const size_t *message_lens, const uint8_t **signatures,
                               const size_t *signature_lens, const uint8_t **contexts,
                               const size_t *context_lens, const uint8_t **public_keys,
                               OQS_STATUS *status)


cdef extern from "sv_mldsa.h" nogil:
    enum:
        SV_MLDSA_OK
        SV_MLDSA_FAIL
        SV_MLDSA_UNSUPPORTED
        SV_MLDSA_RND_BYTES
        SV_MLDSA_MU_BYTES
    int sv_mldsa_available()
    int sv_mldsa_keypair_from_seed(int level, uint8_t *pk, size_t pk_len, uint8_t *sk, size_t sk_len,
                                   const uint8_t *seed, size_t seed_len)
    int sv_mldsa_sign(int level, uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                      const uint8_t *ctx, size_t ctx_len, const uint8_t *rnd, size_t rnd_len,
                      const uint8_t *sk, size_t sk_len)
    int sv_mldsa_sign_mu(int level, uint8_t *sig, size_t sig_len, const uint8_t *mu, size_t mu_len,
                         const uint8_t *rnd, size_t rnd_len, const uint8_t *sk, size_t sk_len)
    int sv_mldsa_verify_mu(int level, const uint8_t *sig, size_t sig_len, const uint8_t *mu, size_t mu_len,
                           const uint8_t *pk, size_t pk_len)
    int sv_mldsa_sign_prehash(int level, uint8_t *sig, size_t sig_len, const uint8_t *digest, size_t digest_len,
                              int prehash, const uint8_t *ctx, size_t ctx_len, const uint8_t *rnd, size_t rnd_len,
                              const uint8_t *sk, size_t sk_len)
    int sv_mldsa_verify_prehash(int level, const uint8_t *sig, size_t sig_len, const uint8_t *digest,
                                size_t digest_len, int prehash, const uint8_t *ctx, size_t ctx_len,
                                const uint8_t *pk, size_t pk_len)
    int sv_mldsa_sk_in_range(int level, const uint8_t *sk, size_t sk_len)
    int sv_mldsa_pk_from_sk(int level, uint8_t *pk, size_t pk_len, const uint8_t *sk, size_t sk_len)


cdef extern from "sv_slhdsa.h" nogil:
    enum:
        SV_SLHDSA_OK
        SV_SLHDSA_FAIL
        SV_SLHDSA_UNSUPPORTED
        SV_SLHDSA_MAX_N
    int sv_slhdsa_available()
    size_t sv_slhdsa_n(int set)
    size_t sv_slhdsa_pk_len(int set)
    size_t sv_slhdsa_sk_len(int set)
    size_t sv_slhdsa_sig_len(int set)
    int sv_slhdsa_keypair_from_seed(int set, uint8_t *pk, size_t pk_len, uint8_t *sk, size_t sk_len,
                                    const uint8_t *seed, size_t seed_len)
    int sv_slhdsa_sk_consistent(int set, const uint8_t *sk, size_t sk_len)
    int sv_slhdsa_sign_internal(int set, uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                                const uint8_t *addrnd, size_t addrnd_len, const uint8_t *sk, size_t sk_len)
    int sv_slhdsa_verify_internal(int set, const uint8_t *sig, size_t sig_len, const uint8_t *message,
                                  size_t message_len, const uint8_t *pk, size_t pk_len)
    int sv_slhdsa_sign(int set, uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                       const uint8_t *ctx, size_t ctx_len, const uint8_t *addrnd, size_t addrnd_len,
                       const uint8_t *sk, size_t sk_len)
    int sv_slhdsa_verify(int set, const uint8_t *sig, size_t sig_len, const uint8_t *message, size_t message_len,
                         const uint8_t *ctx, size_t ctx_len, const uint8_t *pk, size_t pk_len)
    void sv_slhdsa_verify_batch(int set, size_t n, const uint8_t **messages, const size_t *message_lens,
                                const uint8_t **signatures, const size_t *signature_lens,
                                const uint8_t **contexts, const size_t *context_lens,
                                const uint8_t **public_keys, size_t pk_len, int *status)


cdef extern from "sv_random.h" nogil:
    int sv_use_kernel_randomness()


cdef extern from "sv_base64.h" nogil:
    size_t sv_base64_encoded_length(size_t length)
    void sv_base64_encode(char *out, const uint8_t *data, size_t length)


cdef extern from "sv_floor.h" nogil:
    double sv_floor_kem(const OQS_KEM *kem, int op, size_t iterations)
    double sv_floor_sig(const OQS_SIG *sig, int op, size_t iterations, size_t message_len)
    double sv_floor_mldsa(int level, size_t pk_len, size_t sk_len, size_t sig_len, int op, size_t iterations)
    double sv_floor_slhdsa(int set, int op, size_t iterations)


cdef extern from "Python.h":
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void *PyUnicode_DATA(object text)
    bint PyUnicode_IS_ASCII(object text)
    Py_ssize_t PyUnicode_GET_LENGTH(object text)
    Py_ssize_t PyBytes_GET_SIZE(object data)
    const Py_ssize_t PY_SSIZE_T_MAX
    ctypedef struct PyThreadState
    PyThreadState *PyEval_SaveThread()
    void PyEval_RestoreThread(PyThreadState *state)


# Build facts, fixed by setup.py at compile time.
cdef extern from *:
    """
    #ifndef SV_LIBOQS_ORIGIN
    #define SV_LIBOQS_ORIGIN "unknown"
    #endif
    """
    const char *SV_LIBOQS_ORIGIN


OQS_init()
# Before any key is made: liboqs draws from getrandom(2) (csrc/sv_random.c says why).
cdef int _KERNEL_RANDOMNESS = sv_use_kernel_randomness()

# The ML-KEM and ML-DSA names SecretumVault exposes, and liboqs's name for each.
_KEM_LIBOQS_NAMES = {"ML-KEM-512": b"ML-KEM-512", "ML-KEM-768": b"ML-KEM-768", "ML-KEM-1024": b"ML-KEM-1024"}
_SIG_LIBOQS_NAMES = {"ML-DSA-44": b"ML-DSA-44", "ML-DSA-65": b"ML-DSA-65", "ML-DSA-87": b"ML-DSA-87"}
# SLH-DSA parameter set -> csrc/sv_slhdsa.h's number for it (the same order).
_SLH_DSA_SETS = {name: i for i, name in enumerate(SLH_DSA_NAMES)}
_MAX_CONTEXT = 255
_BACKEND = "oqs"

# Key objects are made only by this module: __cinit__ demands this token, which
# Python code cannot reach, so no half-built key (NULL buffers) can ever exist.
cdef object _CONSTRUCT = object()
cdef tuple _CONSTRUCT_ARGS = (_CONSTRUCT,)

cdef extern from *:
    """
    /* type.__new__(type, *args) straight through the type's tp_new slot, without
       looking up and calling __new__ from Python. args is (_CONSTRUCT,) for key classes. */
    static PyObject *sv_new_key(PyObject *type, PyObject *args) {
        return ((PyTypeObject *)type)->tp_new((PyTypeObject *)type, args, NULL);
    }
    """
    object _new_key "sv_new_key"(object type, object args)

# Result tuples (KemKeyPair, Encapsulation, SigKeyPair) are namedtuples. This is
# tuple.__new__(type, (first, second)) minus the Python-level call: CPython's
# own tuple constructor makes the subtype instance, with all its fields right.
cdef extern from *:
    """
    static PyObject *sv_result_pair(PyObject *type, PyObject *first, PyObject *second) {
        PyObject *items, *args, *result;
        items = PyTuple_Pack(2, first, second);
        if (items == NULL) {
            return NULL;
        }
        args = PyTuple_Pack(1, items);
        Py_DECREF(items);
        if (args == NULL) {
            return NULL;
        }
        result = PyTuple_Type.tp_new((PyTypeObject *)type, args, NULL);
        Py_DECREF(args);
        return result;
    }
    """
    object _new_pair "sv_result_pair"(object type, object first, object second)


# -- the GIL -----------------------------------------------------------------------
#
# Policy (benchmarks/bench_gil.py has the numbers): a single call is short
# (7-300 us) and keeps the GIL. Releasing it there costs the caller a GIL
# handover whenever another thread is busy in Python: up to one switch
# interval (5 ms) per call. Batch calls release it once, around the whole
# batch. Pure ML-DSA sign/verify release it for messages from
# _RELEASE_GIL_FROM bytes up, where hashing the message alone takes about as
# long as a switch interval.

cdef enum:
    _RELEASE_GIL_FROM = 4 << 20

#: Message length from which sign()/verify() release the GIL (about 6 ms of SHAKE256).
RELEASE_GIL_FROM = _RELEASE_GIL_FROM


cdef inline PyThreadState *_release_gil_for(Py_ssize_t message_len):
    """Release the GIL if a message this long makes the call long; NULL if it was kept."""
    if message_len >= _RELEASE_GIL_FROM:
        return PyEval_SaveThread()
    return NULL


cdef inline void _regain_gil(PyThreadState *released):
    if released != NULL:
        PyEval_RestoreThread(released)


# -- buffers ------------------------------------------------------------------------

cdef inline int _acquire(object obj, Py_buffer *view, str what) except -1:
    """Borrow obj's bytes in place; bytes, bytearray and contiguous memoryviews qualify."""
    if isinstance(obj, str):
        raise InvalidType(f"{what} must be bytes-like, not str (encode it first)")
    try:
        PyObject_GetBuffer(obj, view, PyBUF_SIMPLE)
    except (TypeError, BufferError):
        raise InvalidType(
            f"{what} must be a C-contiguous bytes-like object, not {type(obj).__name__}"
        ) from None
    return 0


cdef int _acquire_all(Py_buffer *views, tuple objs, tuple whats) except -1:
    """Acquire each of ``objs`` into ``views``; on a failure, release what was acquired."""
    cdef Py_ssize_t i, n = len(objs)
    for i in range(n):
        try:
            _acquire(objs[i], &views[i], whats[i])
        except BaseException:
            _release_all(views, i)
            raise
    return 0


cdef inline void _release_all(Py_buffer *views, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        PyBuffer_Release(&views[i])


cdef int _acquire_and_release(object obj, str what) except -1:
    """Type-check a buffer argument without keeping it."""
    cdef Py_buffer view
    _acquire(obj, &view, what)
    PyBuffer_Release(&view)
    return 0


cdef inline bytes _new_bytes(Py_ssize_t size):
    return PyBytes_FromStringAndSize(NULL, size)


cdef inline uint8_t *_bytes_ptr(bytes b):
    return <uint8_t *>PyBytes_AS_STRING(b)


cdef inline void _wipe_free(uint8_t **ptr, size_t length) noexcept:
    if ptr[0] != NULL:
        OQS_MEM_cleanse(ptr[0], length)
        free(ptr[0])
        ptr[0] = NULL


cdef uint8_t *_owned_copy(const uint8_t *src, size_t length) except NULL:
    """A malloc'd copy for secret material; the caller wipes and frees it."""
    cdef uint8_t *dst = <uint8_t *>malloc(length)
    if dst == NULL:
        raise MemoryError()
    memcpy(dst, src, length)
    return dst


cdef int _check_length(Py_ssize_t got, Py_ssize_t expected, str name, str what, object exc) except -1:
    if got != expected:
        raise exc(f"{name} {what} are {expected} bytes, got {got}")
    return 0


cdef bytes _context_bytes(object context):
    """Validate a FIPS 204 context string; returns it as bytes (it is public data)."""
    cdef Py_buffer view
    _acquire(context, &view, "context")
    try:
        _check_context_length(view.len)
        return PyBytes_FromStringAndSize(<char *>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)


cdef inline int _check_context_length(Py_ssize_t length) except -1:
    if length > _MAX_CONTEXT:
        raise InvalidArgument(f"FIPS 204 context strings are at most {_MAX_CONTEXT} bytes, got {length}")
    return 0


# -- mldsa-native's entry points (csrc/sv_mldsa.c) ------------------------------------

cdef bint _MLDSA_NATIVE = sv_mldsa_available()


cdef int _require_mldsa_native(str what) except -1:
    if not _MLDSA_NATIVE:
        raise UnsupportedAlgorithm(
            f"not available on this build: {what} (it needs mldsa-native's entry points, which the "
            f"liboqs this extension was built against, {OQS_version().decode()} "
            f"({SV_LIBOQS_ORIGIN.decode()}), does not export); rebuild against liboqs 0.16 or later, "
            "or use backend='openssl' where it offers this"
        )
    return 0


cdef int _mldsa_done(int status, str name, str what) except -1:
    """Raise for a failed signing-side call; every argument was checked before it."""
    if status == SV_MLDSA_UNSUPPORTED:
        _require_mldsa_native(what)
    if status != SV_MLDSA_OK:
        raise NativeError(f"liboqs failed an {name} {what}")
    return 0


cdef int _verified(int status, str name) except -1:
    if status != SV_MLDSA_OK:
        raise InvalidSignature(f"{name} signature does not verify")
    return 0


cdef inline void _fill_rnd(uint8_t *rnd, bint deterministic) noexcept:
    if deterministic:
        memset(rnd, 0, SV_MLDSA_RND_BYTES)
    else:
        OQS_randombytes(rnd, SV_MLDSA_RND_BYTES)


# -- what ML-KEM and ML-DSA share ---------------------------------------------------

cdef class _Mechanism:
    """One parameter set: sizes, key loading and the shared-instance cache."""

    cdef readonly str name
    cdef readonly object params
    cdef readonly Py_ssize_t public_key_size, secret_key_size
    cdef Py_ssize_t _seed_size
    # How errors name the two key encodings ("encapsulation key") and the seeds ("seeds (xi)").
    cdef str _public_noun, _secret_noun, _seeds_phrase
    cdef type _public_cls, _secret_cls

    def __cinit__(self, name):
        # Runs before the subclass's __cinit__, which then knows ``name`` is one of its own.
        known = self._liboqs_names
        if not isinstance(name, str) or name not in known:
            raise UnsupportedAlgorithm(
                f"unknown {self._family} {shown_name(name)} for the oqs backend; expected one of {', '.join(known)}"
            )

    @classmethod
    def get(cls, name):
        """The shared handle for ``name``; created once per algorithm."""
        try:
            return cls._instances[name]
        except (KeyError, TypeError):
            pass
        return cls._instances.setdefault(name, cls(name))

    cdef int _setup(self, str name, object params, Py_ssize_t public_key_size, Py_ssize_t secret_key_size,
                    Py_ssize_t seed_size, Py_ssize_t output_size, Py_ssize_t expected_output_size,
                    tuple nouns, type public_cls, type secret_cls) except -1:
        """Record the sizes liboqs reports; refuse to run if they differ from the standard's."""
        self.name, self.params = name, params
        self._public_cls, self._secret_cls = public_cls, secret_cls
        self.public_key_size, self.secret_key_size, self._seed_size = public_key_size, secret_key_size, seed_size
        self._public_noun, self._secret_noun, self._seeds_phrase = nouns
        if (public_key_size, secret_key_size, output_size) != (
            params.public_key_size, params.secret_key_size, expected_output_size
        ):
            raise NativeError(f"liboqs reports sizes for {name} that differ from the standard")
        return 0

    @property
    def backend(self):
        return _BACKEND

    def public_key_from_bytes(self, data):
        """Load a public key after the standard's length (and, for ML-KEM, modulus) checks.

        The caller's buffer is read once, into the key's own ``bytes``; the checks
        run on that copy, so a buffer changed meanwhile cannot slip past them.
        """
        cdef Py_buffer view
        _acquire(data, &view, self._public_noun)
        try:
            _check_length(view.len, self.public_key_size, self.name, self._public_noun + "s", InvalidKey)
            raw = PyBytes_FromStringAndSize(<char *>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        self._check_public(_bytes_ptr(raw))
        return self._new_public(raw)

    def secret_key_from_bytes(self, data):
        """Load an expanded secret key into owned memory, then run the standard's checks on it."""
        cdef Py_buffer view
        cdef _SecretKey sk = self._new_secret()
        _acquire(data, &view, self._secret_noun)
        try:
            _check_length(view.len, self.secret_key_size, self.name, self._secret_noun + "s", InvalidKey)
            sk._sk = _owned_copy(<const uint8_t *>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        self._check_secret(sk)
        return sk

    def keypair_from_seed(self, seed):
        """Deterministic key generation from the standard's seed (FIPS 203 ``d || z``, FIPS 204 ``xi``).

        The seed is copied once into the secret key; key generation reads that
        copy, so ``seed_bytes()`` is always the seed the key was made from.
        """
        cdef Py_buffer view
        cdef _SecretKey sk = self._new_secret()
        _acquire(seed, &view, "seed")
        try:
            _check_length(view.len, self._seed_size, self.name, self._seeds_phrase, InvalidKey)
            sk._seed = _owned_copy(<const uint8_t *>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        return self._keypair(sk)

    def generate_keypair(self):
        """Fresh keys: a seed from liboqs's CSPRNG, drawn into the secret key, then key generation from it."""
        cdef _SecretKey sk = self._new_secret()
        sk._seed = <uint8_t *>malloc(self._seed_size)
        if sk._seed == NULL:
            raise MemoryError()
        OQS_randombytes(sk._seed, self._seed_size)
        return self._keypair(sk)

    # Filled in per family.
    cdef int _check_public(self, const uint8_t *raw) except -1:
        return 0

    cdef int _check_secret(self, _SecretKey sk) except -1:
        return 0

    cdef object _keypair(self, _SecretKey sk):
        """The key pair from ``sk``'s seed: fills in its expanded key and makes the public key."""
        raise NotImplementedError

    cdef uint8_t *_room_for_expanded(self, _SecretKey sk) except NULL:
        sk._sk = <uint8_t *>malloc(self.secret_key_size)
        if sk._sk == NULL:
            raise MemoryError()
        return sk._sk

    cdef _PublicKey _new_public(self, bytes raw):
        cdef _PublicKey pk = _new_key(self._public_cls, _CONSTRUCT_ARGS)
        pk._alg = self
        pk._raw = raw
        return pk

    cdef _SecretKey _new_secret(self):
        cdef _SecretKey sk = _new_key(self._secret_cls, _CONSTRUCT_ARGS)
        sk._alg = self
        return sk

    def __repr__(self):
        return f"<{type(self).__name__} {self.name} backend=oqs>"


cdef class _Key:
    """What every key object has: its parameter set, and no way to be made from Python."""

    cdef _Mechanism _alg

    def __cinit__(self, token=None):
        if token is not _CONSTRUCT:
            raise InvalidType(
                f"{type(self).__name__} objects come from Kem/Signature factories "
                "(generate_keypair, keypair_from_seed, *_from_bytes)"
            )

    @property
    def algorithm(self):
        return self._alg.name

    @property
    def backend(self):
        return _BACKEND

    def __repr__(self):
        return f"<{type(self).__name__} {self._alg.name} backend=oqs>"


cdef class _PublicKey(_Key):
    """A public key: its standard encoding, kept as ``bytes``."""

    cdef bytes _raw

    def to_bytes(self):
        return self._raw

    def __bytes__(self):
        return self._raw

    def __eq__(self, other):
        if isinstance(other, _PublicKey):
            return type(self) is type(other) and self._alg is (<_PublicKey>other)._alg \
                and self._raw == (<_PublicKey>other)._raw
        if isinstance(other, self._interface):  # the same key from another backend
            return self._alg.name == other.algorithm and self._raw == other.to_bytes()
        return NotImplemented

    def __hash__(self):
        return hash((self._alg.name, self._raw))

    def __reduce__(self):
        return (_load_public_key, (type(self._alg), self._alg.name, self._raw))


cdef object _not_enabled(str name):
    return UnsupportedAlgorithm(f"{name} is not enabled in this liboqs build")


def _load_public_key(mechanism, name, raw):
    return mechanism.get(name).public_key_from_bytes(raw)


@cython.auto_pickle(False)
cdef class _SecretKey(_Key):
    """A secret key in memory this object owns and wipes: the expanded key, and its seed when known."""

    cdef uint8_t *_sk      # the expanded encoding (FIPS 203 dk, FIPS 204 sk)
    cdef uint8_t *_seed    # the seed it came from (generated or loaded from a seed), else NULL

    def __dealloc__(self):
        if self._alg is not None:
            _wipe_free(&self._sk, self._alg.secret_key_size)
            _wipe_free(&self._seed, self._alg._seed_size)

    def to_bytes(self):
        """The expanded secret key. The copy is a Python ``bytes``: treat it as secret."""
        return PyBytes_FromStringAndSize(<char *>self._sk, self._alg.secret_key_size)

    def seed_bytes(self):
        """The seed the key was generated from: its compact, portable form."""
        if self._seed == NULL:
            raise UnsupportedAlgorithm(
                "this key was loaded from its expanded encoding, which does not contain the seed; "
                "keep keys from keypair_from_seed()/generate_keypair() to export seeds"
            )
        return PyBytes_FromStringAndSize(<char *>self._seed, self._alg._seed_size)

    def __bytes__(self):
        return self.to_bytes()

    def __reduce_ex__(self, protocol):
        refuse_pickle(self)


# -- ML-KEM -------------------------------------------------------------------------

@cython.final
cdef class KemMechanism(_Mechanism):
    """One ML-KEM parameter set: the shared liboqs handle and the key factories."""

    cdef OQS_KEM *_kem
    cdef readonly Py_ssize_t ciphertext_size, shared_secret_size
    cdef Py_ssize_t _encaps_seed_size

    _instances = {}
    _liboqs_names = _KEM_LIBOQS_NAMES
    _family = "KEM"

    def __cinit__(self, str name):
        self._kem = OQS_KEM_new(_KEM_LIBOQS_NAMES[name])
        if self._kem == NULL:
            raise _not_enabled(name)
        self.ciphertext_size = self._kem.length_ciphertext
        self.shared_secret_size = self._kem.length_shared_secret
        self._encaps_seed_size = self._kem.length_encaps_seed
        params = kem_params(name)
        self._setup(name, params, self._kem.length_public_key, self._kem.length_secret_key,
                    self._kem.length_keypair_seed, self.ciphertext_size, params.ciphertext_size,
                    ("encapsulation key", "decapsulation key", "seeds (d || z)"), KemPublicKey, KemSecretKey)

    def __dealloc__(self):
        if self._kem != NULL:
            OQS_KEM_free(self._kem)

    cdef object _keypair(self, _SecretKey sk):
        """FIPS 203 ML-KEM.KeyGen_internal(d, z) from the 64-byte seed ``d || z``."""
        cdef bytes ek = _new_bytes(self.public_key_size)
        cdef OQS_STATUS rc
        rc = OQS_KEM_keypair_derand(self._kem, _bytes_ptr(ek), self._room_for_expanded(sk), sk._seed)
        if rc != OQS_SUCCESS:
            raise NativeError(f"liboqs failed to generate an {self.name} key pair")
        return _new_pair(KemKeyPair, self._new_public(ek), sk)

    cdef int _check_public(self, const uint8_t *raw) except -1:
        cdef bint canonical
        canonical = sv_mlkem_ek_is_canonical(raw, self.public_key_size)
        if not canonical:
            raise InvalidKey(
                f"invalid {self.name} encapsulation key: a coefficient is not reduced modulo q "
                "(FIPS 203 modulus check)"
            )
        return 0

    cdef int _check_secret(self, _SecretKey sk) except -1:
        # dk = dk_pke || ek || H(ek) || z. The embedded ek and its hash are public;
        # comparing them needs no secrecy, but compare_digest costs nothing here.
        cdef Py_ssize_t ek_offset = self.public_key_size - 32
        ek = PyBytes_FromStringAndSize(<char *>(sk._sk + ek_offset), self.public_key_size)
        stored_hash = PyBytes_FromStringAndSize(<char *>(sk._sk + ek_offset + self.public_key_size), 32)
        if not hmac.compare_digest(hashlib.sha3_256(ek).digest(), stored_hash):
            raise InvalidKey(f"invalid {self.name} decapsulation key: H(ek) does not match (FIPS 203 hash check)")
        if not sv_mlkem_ek_is_canonical(sk._sk + ek_offset, self.public_key_size):
            raise InvalidKey(f"invalid {self.name} decapsulation key: embedded encapsulation key fails the modulus check")
        return 0

    cdef KemPublicKey _own_public(self, object key, Py_ssize_t index):
        if not isinstance(key, KemPublicKey) or (<KemPublicKey>key)._alg is not self:
            raise InvalidKey(
                f"item {index}: expected an {self.name} public key of the oqs backend, got {describe(key)}"
            )
        return <KemPublicKey>key

    def encapsulate_batch(self, public_keys):
        """Encapsulate once to each public key: one GIL release for the whole batch."""
        keys = as_list(public_keys, "public_keys")
        cdef Py_ssize_t n = len(keys), i
        cdef KemPublicKey pk
        cdef const uint8_t **pks = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef uint8_t **cts = <uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef uint8_t **sss = <uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef OQS_STATUS *status = <OQS_STATUS *>calloc(n + 1, sizeof(OQS_STATUS))
        cdef size_t failures
        results = []
        try:
            if pks == NULL or cts == NULL or sss == NULL or status == NULL:
                raise MemoryError()
            for i in range(n):
                pk = self._own_public(keys[i], i)
                ct = _new_bytes(self.ciphertext_size)
                ss = _new_bytes(self.shared_secret_size)
                pks[i] = _bytes_ptr(pk._raw)
                cts[i] = _bytes_ptr(ct)
                sss[i] = _bytes_ptr(ss)
                results.append(_new_pair(Encapsulation, ct, ss))
            with nogil:
                failures = sv_kem_encaps_batch(self._kem, n, cts, sss, pks, status)
            if failures:
                raise NativeError(f"liboqs failed {failures} of {n} {self.name} encapsulations")
            return results
        finally:
            free(pks); free(cts); free(sss); free(status)

    def decapsulate_batch(self, secret_key, ciphertexts):
        """Decapsulate many ciphertexts under one key: one GIL release for the batch."""
        if not isinstance(secret_key, KemSecretKey) or (<KemSecretKey>secret_key)._alg is not self:
            raise InvalidKey(f"expected an {self.name} secret key of the oqs backend, got {describe(secret_key)}")
        cdef KemSecretKey sk = secret_key
        items = as_list(ciphertexts, "ciphertexts")
        cdef Py_ssize_t n = len(items), i, acquired = 0
        cdef Py_buffer *views = <Py_buffer *>calloc(n + 1, sizeof(Py_buffer))
        cdef const uint8_t **cts = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef uint8_t **sss = <uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef OQS_STATUS *status = <OQS_STATUS *>calloc(n + 1, sizeof(OQS_STATUS))
        cdef size_t failures
        results = []
        try:
            if views == NULL or cts == NULL or sss == NULL or status == NULL:
                raise MemoryError()
            for i in range(n):
                _acquire(items[i], &views[i], f"ciphertext {i}")
                acquired += 1
                _check_length(views[i].len, self.ciphertext_size, f"ciphertext {i}: {self.name}",
                              "ciphertexts", InvalidCiphertext)
                ss = _new_bytes(self.shared_secret_size)
                cts[i] = <const uint8_t *>views[i].buf
                sss[i] = _bytes_ptr(ss)
                results.append(ss)
            with nogil:
                failures = sv_kem_decaps_batch(self._kem, n, sss, cts, sk._sk, status)
            if failures:
                raise NativeError(f"liboqs failed {failures} of {n} {self.name} decapsulations")
            return results
        finally:
            for i in range(acquired):
                PyBuffer_Release(&views[i])
            free(views); free(cts); free(sss); free(status)


@cython.final
cdef class KemPublicKey(_PublicKey):
    """An ML-KEM encapsulation key."""

    _interface = _abc.KemPublicKey

    def encapsulate(self):
        """A fresh shared secret and its ciphertext (randomness from liboqs's CSPRNG)."""
        cdef KemMechanism alg = <KemMechanism>self._alg
        cdef bytes ct = _new_bytes(alg.ciphertext_size)
        cdef bytes ss = _new_bytes(alg.shared_secret_size)
        cdef OQS_STATUS rc
        cdef uint8_t *ct_out = _bytes_ptr(ct)
        cdef uint8_t *ss_out = _bytes_ptr(ss)
        cdef const uint8_t *ek = _bytes_ptr(self._raw)
        rc = OQS_KEM_encaps(alg._kem, ct_out, ss_out, ek)
        if rc != OQS_SUCCESS:
            raise NativeError(f"liboqs failed an {alg.name} encapsulation")
        return _new_pair(Encapsulation, ct, ss)

    def encapsulate_derand(self, message):
        """FIPS 203 ML-KEM.Encaps_internal with the 32-byte message ``m`` (test vectors)."""
        cdef KemMechanism alg = <KemMechanism>self._alg
        cdef Py_buffer view
        cdef OQS_STATUS rc = OQS_ERROR
        cdef bytes ct, ss
        cdef uint8_t *ct_out
        cdef uint8_t *ss_out
        cdef const uint8_t *ek = _bytes_ptr(self._raw)
        _acquire(message, &view, "message")
        try:
            _check_length(view.len, alg._encaps_seed_size, alg.name, "encapsulation messages", InvalidArgument)
            ct = _new_bytes(alg.ciphertext_size)
            ss = _new_bytes(alg.shared_secret_size)
            ct_out = _bytes_ptr(ct)
            ss_out = _bytes_ptr(ss)
            rc = OQS_KEM_encaps_derand(alg._kem, ct_out, ss_out, ek, <const uint8_t *>view.buf)
        finally:
            PyBuffer_Release(&view)
        if rc != OQS_SUCCESS:
            raise NativeError(f"liboqs failed an {alg.name} encapsulation")
        return _new_pair(Encapsulation, ct, ss)


@cython.final
@cython.auto_pickle(False)
cdef class KemSecretKey(_SecretKey):
    """An ML-KEM decapsulation key in memory this object owns and wipes."""

    def decapsulate(self, ciphertext):
        """The shared secret; a tampered ciphertext gives an unrelated one (implicit rejection)."""
        cdef KemMechanism alg = <KemMechanism>self._alg
        cdef Py_buffer view
        cdef OQS_STATUS rc = OQS_ERROR
        cdef bytes ss
        cdef uint8_t *ss_out
        _acquire(ciphertext, &view, "ciphertext")
        try:
            _check_length(view.len, alg.ciphertext_size, alg.name, "ciphertexts", InvalidCiphertext)
            ss = _new_bytes(alg.shared_secret_size)
            ss_out = _bytes_ptr(ss)
            rc = OQS_KEM_decaps(alg._kem, ss_out, <const uint8_t *>view.buf, self._sk)
        finally:
            PyBuffer_Release(&view)
        if rc != OQS_SUCCESS:
            raise NativeError(f"liboqs failed an {alg.name} decapsulation")
        return ss

    def public_key(self):
        """The encapsulation key embedded in the decapsulation key."""
        cdef Py_ssize_t offset = self._alg.public_key_size - 32
        raw = PyBytes_FromStringAndSize(<char *>(self._sk + offset), self._alg.public_key_size)
        return self._alg._new_public(raw)


# -- ML-DSA -------------------------------------------------------------------------

@cython.final
cdef class SigMechanism(_Mechanism):
    """One ML-DSA parameter set: the shared liboqs handle and the key factories."""

    cdef OQS_SIG *_sig
    cdef readonly Py_ssize_t signature_size
    cdef int _level  # 44, 65 or 87: mldsa-native's parameter set

    _instances = {}
    _liboqs_names = _SIG_LIBOQS_NAMES
    _family = "signature algorithm"

    def __cinit__(self, str name):
        self._sig = OQS_SIG_new(_SIG_LIBOQS_NAMES[name])
        if self._sig == NULL:
            raise _not_enabled(name)
        if not self._sig.sig_with_ctx_support:
            raise NativeError(f"this liboqs build of {name} lacks FIPS 204 context strings")
        self.signature_size = self._sig.length_signature
        self._level = int(name.rsplit("-", 1)[1])
        params = sig_params(name)
        self._setup(name, params, self._sig.length_public_key, self._sig.length_secret_key,
                    params.seed_size, self.signature_size, params.signature_size,
                    ("public key", "secret key", "seeds (xi)"), SigPublicKey, SigSecretKey)

    def __dealloc__(self):
        if self._sig != NULL:
            OQS_SIG_free(self._sig)

    def generate_keypair(self):
        """Fresh keys from a 32-byte seed xi the secret key keeps (seed_bytes()).

        Without mldsa-native's entry points, liboqs's own key generation, which keeps no seed.
        """
        if _MLDSA_NATIVE:
            return _Mechanism.generate_keypair(self)
        cdef _SecretKey sk = self._new_secret()
        cdef bytes pk = _new_bytes(self.public_key_size)
        cdef OQS_STATUS rc
        rc = OQS_SIG_keypair(self._sig, _bytes_ptr(pk), self._room_for_expanded(sk))
        if rc != OQS_SUCCESS:
            raise NativeError(f"liboqs failed to generate an {self.name} key pair")
        return _new_pair(SigKeyPair, self._new_public(pk), sk)

    def keypair_from_seed(self, seed):
        """FIPS 204 ML-DSA.KeyGen_internal(xi) from the 32-byte seed: the same keys on every backend."""
        if not _MLDSA_NATIVE:
            _acquire_and_release(seed, "seed")  # type errors first, as on every other entry point
            _require_mldsa_native("key generation from a seed")
        return _Mechanism.keypair_from_seed(self, seed)

    cdef object _keypair(self, _SecretKey sk):
        """FIPS 204 ML-DSA.KeyGen_internal(xi) from the 32-byte seed xi."""
        cdef bytes pk = _new_bytes(self.public_key_size)
        cdef uint8_t *expanded = self._room_for_expanded(sk)
        _mldsa_done(sv_mldsa_keypair_from_seed(self._level, _bytes_ptr(pk), self.public_key_size,
                                               expanded, self.secret_key_size, sk._seed, self._seed_size),
                    self.name, "key generation")
        return _new_pair(SigKeyPair, self._new_public(pk), sk)

    cdef int _check_secret(self, _SecretKey sk) except -1:
        """FIPS 204 skDecode's checks: s1, s2 in range; the parts agree (pk from sk hashes to tr)."""
        cdef uint8_t *pk
        cdef int rc
        if not sv_mldsa_sk_in_range(self._level, sk._sk, self.secret_key_size):
            raise InvalidKey(f"invalid {self.name} secret key: a coefficient of s1 or s2 is out of range")
        if not _MLDSA_NATIVE:
            return 0  # the consistency check needs mldsa-native's pk_from_sk (see build_info())
        pk = <uint8_t *>malloc(self.public_key_size)
        if pk == NULL:
            raise MemoryError()
        rc = sv_mldsa_pk_from_sk(self._level, pk, self.public_key_size, sk._sk, self.secret_key_size)
        free(pk)
        if rc == SV_MLDSA_FAIL:
            raise InvalidKey(
                f"invalid {self.name} secret key: its parts are inconsistent (the public key recomputed "
                "from it does not hash to its tr, or its t0 differs)"
            )
        _mldsa_done(rc, self.name, "secret key check")
        return 0

    def verify_batch(self, items):
        """Verify ``(public_key, signature, message, context)`` items in one GIL release.

        Returns a list of booleans. Malformed items (wrong key type, oversized
        context) raise before anything is verified.
        """
        batch = [as_item(item, i, VERIFY_ITEM) for i, item in enumerate(as_list(items, "items"))]
        cdef Py_ssize_t n = len(batch), i, acquired = 0
        cdef SigPublicKey pk
        cdef Py_buffer *views = <Py_buffer *>calloc(2 * n + 1, sizeof(Py_buffer))
        cdef const uint8_t **msgs = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef const uint8_t **sigs = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef const uint8_t **ctxs = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef const uint8_t **pks = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef size_t *msg_lens = <size_t *>calloc(n + 1, sizeof(size_t))
        cdef size_t *sig_lens = <size_t *>calloc(n + 1, sizeof(size_t))
        cdef size_t *ctx_lens = <size_t *>calloc(n + 1, sizeof(size_t))
        cdef OQS_STATUS *status = <OQS_STATUS *>calloc(n + 1, sizeof(OQS_STATUS))
        contexts = []
        try:
            if (views == NULL or msgs == NULL or sigs == NULL or ctxs == NULL or pks == NULL
                    or msg_lens == NULL or sig_lens == NULL or ctx_lens == NULL or status == NULL):
                raise MemoryError()
            for i in range(n):
                key, signature, message, context = batch[i]
                if not isinstance(key, SigPublicKey) or (<SigPublicKey>key)._alg is not self:
                    raise InvalidKey(
                        f"item {i}: expected an {self.name} public key of the oqs backend, got {describe(key)}"
                    )
                pk = key
                ctx = _context_bytes(context)
                contexts.append(ctx)
                _acquire(signature, &views[2 * i], f"signature {i}")
                acquired += 1
                _acquire(message, &views[2 * i + 1], f"message {i}")
                acquired += 1
                pks[i] = _bytes_ptr(pk._raw)
                sigs[i] = <const uint8_t *>views[2 * i].buf
                sig_lens[i] = views[2 * i].len
                msgs[i] = <const uint8_t *>views[2 * i + 1].buf
                msg_lens[i] = views[2 * i + 1].len
                ctxs[i] = _bytes_ptr(ctx)
                ctx_lens[i] = len(ctx)
            with nogil:
                sv_sig_verify_batch(self._sig, n, msgs, msg_lens, sigs, sig_lens, ctxs, ctx_lens, pks, status)
            # Wrong-length signatures are rejected by liboqs itself (it checks signature_len).
            return [status[i] == OQS_SUCCESS for i in range(n)]
        finally:
            for i in range(acquired):
                PyBuffer_Release(&views[i])
            free(views); free(msgs); free(sigs); free(ctxs); free(pks)
            free(msg_lens); free(sig_lens); free(ctx_lens); free(status)


@cython.final
cdef class SigPublicKey(_PublicKey):
    """An ML-DSA verification key."""

    _interface = _abc.SigPublicKey

    def verify(self, signature, message, context=b""):
        """Return None if valid; raise InvalidSignature otherwise."""
        cdef SigMechanism alg = <SigMechanism>self._alg
        cdef Py_buffer v[3]  # signature, message, context
        cdef OQS_STATUS rc
        cdef PyThreadState *released
        _acquire_all(v, (signature, message, context), ("signature", "message", "context"))
        try:
            _check_context_length(v[2].len)
            _check_length(v[0].len, alg.signature_size, alg.name, "signatures", InvalidSignature)
            released = _release_gil_for(v[1].len)
            rc = OQS_SIG_verify_with_ctx_str(alg._sig, <const uint8_t *>v[1].buf, v[1].len,
                                             <const uint8_t *>v[0].buf, v[0].len,
                                             <const uint8_t *>v[2].buf, v[2].len, _bytes_ptr(self._raw))
            _regain_gil(released)
        finally:
            _release_all(v, 3)
        if rc != OQS_SUCCESS:
            raise InvalidSignature(f"{alg.name} signature does not verify")

    def verify_mu(self, signature, mu):
        """Verify a signature over the 64-byte message representative mu (FIPS 204 external mu)."""
        cdef SigMechanism alg = <SigMechanism>self._alg
        cdef Py_buffer v[2]  # signature, mu
        cdef int rc
        _acquire_all(v, (signature, mu), ("signature", "mu"))
        try:
            _check_length(v[1].len, SV_MLDSA_MU_BYTES, "FIPS 204", "mu values", InvalidArgument)
            _check_length(v[0].len, alg.signature_size, alg.name, "signatures", InvalidSignature)
            _require_mldsa_native("external mu")
            rc = sv_mldsa_verify_mu(alg._level, <const uint8_t *>v[0].buf, v[0].len,
                                    <const uint8_t *>v[1].buf, v[1].len,
                                    _bytes_ptr(self._raw), alg.public_key_size)
        finally:
            _release_all(v, 2)
        _verified(rc, alg.name)

    def verify_prehashed(self, signature, digest, hash_algorithm, context=b""):
        """Verify a HashML-DSA signature (FIPS 204 Algorithm 5) over ``digest``.

        ``hash_algorithm`` names the hash as hashlib does ("sha256", "sha3_512", "shake_256", ...).
        """
        cdef SigMechanism alg = <SigMechanism>self._alg
        cdef Py_buffer v[3]  # signature, digest, context
        cdef int rc
        _acquire_all(v, (signature, digest, context), ("signature", "digest", "context"))
        try:
            prehash_id = prehash(hash_algorithm, v[1].len).mldsa_native_id
            _check_context_length(v[2].len)
            _check_length(v[0].len, alg.signature_size, alg.name, "signatures", InvalidSignature)
            _require_mldsa_native("HashML-DSA")
            rc = sv_mldsa_verify_prehash(alg._level, <const uint8_t *>v[0].buf, v[0].len,
                                         <const uint8_t *>v[1].buf, v[1].len, prehash_id,
                                         <const uint8_t *>v[2].buf, v[2].len,
                                         _bytes_ptr(self._raw), alg.public_key_size)
        finally:
            _release_all(v, 3)
        _verified(rc, alg.name)


@cython.final
@cython.auto_pickle(False)
cdef class SigSecretKey(_SecretKey):
    """An ML-DSA signing key in memory this object owns and wipes."""

    def sign(self, message, context=b"", deterministic=False):
        """A FIPS 204 signature of ``message`` under ``context``.

        Hedged (fresh randomness) by default; ``deterministic=True`` is FIPS 204's
        deterministic variant: rnd is 32 zero bytes, so the signature depends on
        the key, context and message alone.
        """
        cdef SigMechanism alg = <SigMechanism>self._alg
        cdef Py_buffer v[2]  # message, context
        cdef OQS_STATUS rc = OQS_ERROR
        cdef PyThreadState *released
        cdef int status = SV_MLDSA_OK
        cdef size_t sig_len = alg.signature_size
        cdef bytes signature = _new_bytes(alg.signature_size)
        cdef uint8_t rnd[SV_MLDSA_RND_BYTES]
        _acquire_all(v, (message, context), ("message", "context"))
        try:
            _check_context_length(v[1].len)
            if deterministic:
                _require_mldsa_native("deterministic signing")
                memset(rnd, 0, SV_MLDSA_RND_BYTES)
                released = _release_gil_for(v[0].len)
                status = sv_mldsa_sign(alg._level, _bytes_ptr(signature), sig_len,
                                       <const uint8_t *>v[0].buf, v[0].len, <const uint8_t *>v[1].buf, v[1].len,
                                       rnd, SV_MLDSA_RND_BYTES, self._sk, alg.secret_key_size)
            else:
                released = _release_gil_for(v[0].len)
                rc = OQS_SIG_sign_with_ctx_str(alg._sig, _bytes_ptr(signature), &sig_len,
                                               <const uint8_t *>v[0].buf, v[0].len,
                                               <const uint8_t *>v[1].buf, v[1].len, self._sk)
                status = SV_MLDSA_OK if rc == OQS_SUCCESS and sig_len == <size_t>alg.signature_size else SV_MLDSA_FAIL
            _regain_gil(released)
        finally:
            _release_all(v, 2)
        _mldsa_done(status, alg.name, "signature")
        return signature

    def sign_mu(self, mu, deterministic=False):
        """Sign the 64-byte message representative mu = H(tr || M', 64) (FIPS 204 external mu)."""
        cdef SigMechanism alg = <SigMechanism>self._alg
        cdef Py_buffer v[1]
        cdef int status
        cdef bytes signature = _new_bytes(alg.signature_size)
        cdef uint8_t rnd[SV_MLDSA_RND_BYTES]
        _acquire_all(v, (mu,), ("mu",))
        try:
            _check_length(v[0].len, SV_MLDSA_MU_BYTES, "FIPS 204", "mu values", InvalidArgument)
            _require_mldsa_native("external mu")
            _fill_rnd(rnd, deterministic)
            status = sv_mldsa_sign_mu(alg._level, _bytes_ptr(signature), alg.signature_size,
                                      <const uint8_t *>v[0].buf, v[0].len, rnd, SV_MLDSA_RND_BYTES,
                                      self._sk, alg.secret_key_size)
        finally:
            _release_all(v, 1)
        _mldsa_done(status, alg.name, "signature")
        return signature

    def sign_prehashed(self, digest, hash_algorithm, context=b""):
        """HashML-DSA (FIPS 204 Algorithm 4), hedged: sign the ``hash_algorithm`` digest of a message."""
        cdef SigMechanism alg = <SigMechanism>self._alg
        cdef Py_buffer v[2]  # digest, context
        cdef int status
        cdef bytes signature = _new_bytes(alg.signature_size)
        cdef uint8_t rnd[SV_MLDSA_RND_BYTES]
        _acquire_all(v, (digest, context), ("digest", "context"))
        try:
            prehash_id = prehash(hash_algorithm, v[0].len).mldsa_native_id
            _check_context_length(v[1].len)
            _require_mldsa_native("HashML-DSA")
            _fill_rnd(rnd, False)
            status = sv_mldsa_sign_prehash(alg._level, _bytes_ptr(signature), alg.signature_size,
                                           <const uint8_t *>v[0].buf, v[0].len, prehash_id,
                                           <const uint8_t *>v[1].buf, v[1].len, rnd, SV_MLDSA_RND_BYTES,
                                           self._sk, alg.secret_key_size)
        finally:
            _release_all(v, 2)
        _mldsa_done(status, alg.name, "signature")
        return signature

    def seed_bytes(self):
        if self._seed == NULL and not _MLDSA_NATIVE:
            _require_mldsa_native("ML-DSA seeds")
        return _SecretKey.seed_bytes(self)


# -- SLH-DSA (FIPS 205) ----------------------------------------------------------------
#
# Through slhdsa-c's own entry points inside liboqs (csrc/sv_slhdsa.c). Every
# SLH-DSA call is long (verify ~0.3-3 ms; key generation, the secret-key check
# and signing from ms to hundreds of ms), so each releases the GIL around the
# native call, whatever the message length.

cdef bint _SLHDSA_C = sv_slhdsa_available()


cdef int _require_slhdsa_c(str name) except -1:
    if not _SLHDSA_C:
        raise UnsupportedAlgorithm(
            f"{name} is not available on this build: SLH-DSA needs slhdsa-c's entry points "
            f"(slh_keygen_internal, slh_sign, ...), which the liboqs this extension was built against, "
            f"{OQS_version().decode()} ({SV_LIBOQS_ORIGIN.decode()}), does not export; rebuild against "
            "liboqs 0.16 or later with SLH-DSA enabled"
        )
    return 0


cdef inline int _check_slh_context_length(Py_ssize_t length) except -1:
    if length > _MAX_CONTEXT:
        raise InvalidArgument(f"FIPS 205 context strings are at most {_MAX_CONTEXT} bytes, got {length}")
    return 0


cdef int _slh_done(int status, str name, str what) except -1:
    """Raise for a failed signing-side call; every argument was checked before it."""
    if status == SV_SLHDSA_UNSUPPORTED:
        _require_slhdsa_c(name)
    if status != SV_SLHDSA_OK:
        raise NativeError(f"liboqs failed an {name} {what}")
    return 0


cdef bytes _slh_prehash_message(object digest, object hash_algorithm, object context):
    """HashSLH-DSA's M' (FIPS 205 Algorithm 23): 1 || len(ctx) || ctx || OID(PH) || PH(M); public data."""
    cdef Py_buffer v[2]  # digest, context
    _acquire_all(v, (digest, context), ("digest", "context"))
    try:
        found = prehash(hash_algorithm, v[0].len)
        _check_slh_context_length(v[1].len)
        return formatted_message(PyBytes_FromStringAndSize(<char *>v[0].buf, v[0].len), found,
                                 PyBytes_FromStringAndSize(<char *>v[1].buf, v[1].len))
    finally:
        _release_all(v, 2)


@cython.final
cdef class SlhMechanism(_Mechanism):
    """One SLH-DSA parameter set: the key factories.

    Its "seed" is FIPS 205's SK.seed || SK.prf || PK.seed (3n bytes), the inputs of
    slh_keygen_internal (Algorithm 18); the expanded secret key is SK.seed ||
    SK.prf || PK.seed || PK.root, so its seed can always be recovered from it.
    """

    cdef int _set
    cdef readonly Py_ssize_t signature_size
    cdef Py_ssize_t _n

    _instances = {}
    _liboqs_names = _SLH_DSA_SETS
    _family = "SLH-DSA parameter set"

    def __cinit__(self, str name):
        _require_slhdsa_c(name)
        self._set = _SLH_DSA_SETS[name]
        self._n = sv_slhdsa_n(self._set)
        self.signature_size = sv_slhdsa_sig_len(self._set)
        params = sig_params(name)
        self._setup(name, params, sv_slhdsa_pk_len(self._set), sv_slhdsa_sk_len(self._set),
                    3 * self._n, self.signature_size, params.signature_size,
                    ("public key", "secret key", "seeds (SK.seed || SK.prf || PK.seed)"),
                    SlhPublicKey, SlhSecretKey)

    cdef object _keypair(self, _SecretKey sk):
        """slh_keygen_internal(SK.seed, SK.prf, PK.seed), without the GIL (it builds a whole XMSS tree)."""
        cdef bytes pk = _new_bytes(self.public_key_size)
        cdef uint8_t *pk_ptr = _bytes_ptr(pk)
        cdef uint8_t *expanded = self._room_for_expanded(sk)
        cdef int status
        with nogil:
            status = sv_slhdsa_keypair_from_seed(self._set, pk_ptr, self.public_key_size, expanded,
                                                 self.secret_key_size, sk._seed, self._seed_size)
        _slh_done(status, self.name, "key generation")
        return _new_pair(SigKeyPair, self._new_public(pk), sk)

    cdef int _check_secret(self, _SecretKey sk) except -1:
        """The key's PK.root must be the root its seeds give (recomputed: one key generation, no GIL)."""
        cdef int same
        with nogil:
            same = sv_slhdsa_sk_consistent(self._set, sk._sk, self.secret_key_size)
        if not same:
            raise InvalidKey(
                f"invalid {self.name} secret key: its PK.root is not the root its SK.seed and PK.seed give"
            )
        return 0

    def verify_batch(self, items):
        """Verify ``(public_key, signature, message, context)`` items (pure SLH-DSA) in one GIL release.

        Returns a list of booleans. Malformed items (wrong key type, oversized
        context) raise before anything is verified; a wrongly sized signature is a False.
        """
        batch = [as_item(item, i, VERIFY_ITEM) for i, item in enumerate(as_list(items, "items"))]
        cdef Py_ssize_t n = len(batch), i, acquired = 0
        cdef SlhPublicKey pk
        cdef Py_buffer *views = <Py_buffer *>calloc(2 * n + 1, sizeof(Py_buffer))
        cdef const uint8_t **msgs = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef const uint8_t **sigs = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef const uint8_t **ctxs = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef const uint8_t **pks = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef size_t *msg_lens = <size_t *>calloc(n + 1, sizeof(size_t))
        cdef size_t *sig_lens = <size_t *>calloc(n + 1, sizeof(size_t))
        cdef size_t *ctx_lens = <size_t *>calloc(n + 1, sizeof(size_t))
        cdef int *status = <int *>calloc(n + 1, sizeof(int))
        contexts = []
        try:
            if (views == NULL or msgs == NULL or sigs == NULL or ctxs == NULL or pks == NULL
                    or msg_lens == NULL or sig_lens == NULL or ctx_lens == NULL or status == NULL):
                raise MemoryError()
            for i in range(n):
                key, signature, message, context = batch[i]
                if not isinstance(key, SlhPublicKey) or (<SlhPublicKey>key)._alg is not self:
                    raise InvalidKey(
                        f"item {i}: expected an {self.name} public key of the oqs backend, got {describe(key)}"
                    )
                pk = key
                ctx = _context_bytes(context)
                contexts.append(ctx)
                _acquire(signature, &views[2 * i], f"signature {i}")
                acquired += 1
                _acquire(message, &views[2 * i + 1], f"message {i}")
                acquired += 1
                pks[i] = _bytes_ptr(pk._raw)
                sigs[i] = <const uint8_t *>views[2 * i].buf
                sig_lens[i] = views[2 * i].len
                msgs[i] = <const uint8_t *>views[2 * i + 1].buf
                msg_lens[i] = views[2 * i + 1].len
                ctxs[i] = _bytes_ptr(ctx)
                ctx_lens[i] = len(ctx)
            with nogil:
                sv_slhdsa_verify_batch(self._set, n, msgs, msg_lens, sigs, sig_lens, ctxs, ctx_lens, pks,
                                       self.public_key_size, status)
            return [status[i] == SV_SLHDSA_OK for i in range(n)]
        finally:
            for i in range(acquired):
                PyBuffer_Release(&views[i])
            free(views); free(msgs); free(sigs); free(ctxs); free(pks)
            free(msg_lens); free(sig_lens); free(ctx_lens); free(status)


@cython.final
cdef class SlhPublicKey(_PublicKey):
    """An SLH-DSA verification key: PK.seed || PK.root."""

    _interface = _abc.SigPublicKey

    def verify(self, signature, message, context=b""):
        """Pure SLH-DSA (FIPS 205 Algorithm 24): None if valid; raise InvalidSignature otherwise."""
        cdef SlhMechanism alg = <SlhMechanism>self._alg
        cdef Py_buffer v[3]  # signature, message, context
        cdef int rc
        cdef const uint8_t *pk = _bytes_ptr(self._raw)
        _acquire_all(v, (signature, message, context), ("signature", "message", "context"))
        try:
            _check_slh_context_length(v[2].len)
            _check_length(v[0].len, alg.signature_size, alg.name, "signatures", InvalidSignature)
            with nogil:
                rc = sv_slhdsa_verify(alg._set, <const uint8_t *>v[0].buf, v[0].len,
                                      <const uint8_t *>v[1].buf, v[1].len, <const uint8_t *>v[2].buf, v[2].len,
                                      pk, alg.public_key_size)
        finally:
            _release_all(v, 3)
        if rc != SV_SLHDSA_OK:
            raise InvalidSignature(f"{alg.name} signature does not verify")

    def verify_prehashed(self, signature, digest, hash_algorithm, context=b""):
        """Verify a HashSLH-DSA signature (FIPS 205 Algorithm 25) over ``digest``, the
        ``hash_algorithm`` digest of the message (named as hashlib names it)."""
        cdef SlhMechanism alg = <SlhMechanism>self._alg
        cdef Py_buffer v[1]
        cdef int rc
        cdef const uint8_t *pk = _bytes_ptr(self._raw)
        cdef bytes mprime = _slh_prehash_message(digest, hash_algorithm, context)
        cdef const uint8_t *m = _bytes_ptr(mprime)
        cdef size_t m_len = len(mprime)
        _acquire_all(v, (signature,), ("signature",))
        try:
            _check_length(v[0].len, alg.signature_size, alg.name, "signatures", InvalidSignature)
            with nogil:
                rc = sv_slhdsa_verify_internal(alg._set, <const uint8_t *>v[0].buf, v[0].len, m, m_len,
                                               pk, alg.public_key_size)
        finally:
            _release_all(v, 1)
        if rc != SV_SLHDSA_OK:
            raise InvalidSignature(f"{alg.name} signature does not verify")

    def verify_mu(self, signature, mu):
        raise UnsupportedAlgorithm(f"{self._alg.name} has no external mu (an ML-DSA operation)")


@cython.final
@cython.auto_pickle(False)
cdef class SlhSecretKey(_SecretKey):
    """An SLH-DSA signing key (SK.seed || SK.prf || PK.seed || PK.root) in memory this object owns and wipes."""

    cdef bytes _sign(self, const uint8_t *message, size_t message_len, const uint8_t *ctx, Py_ssize_t ctx_len,
                     bint prehashed, bint deterministic):
        cdef SlhMechanism alg = <SlhMechanism>self._alg
        cdef bytes signature = _new_bytes(alg.signature_size)
        cdef uint8_t *out = _bytes_ptr(signature)
        cdef uint8_t addrnd[SV_SLHDSA_MAX_N]
        cdef const uint8_t *rnd = NULL  # NULL: FIPS 205's deterministic variant (opt_rand = PK.seed)
        cdef size_t rnd_len = 0
        cdef int status
        if not deterministic:
            OQS_randombytes(addrnd, alg._n)
            rnd, rnd_len = addrnd, alg._n
        with nogil:
            if prehashed:
                status = sv_slhdsa_sign_internal(alg._set, out, alg.signature_size, message, message_len,
                                                 rnd, rnd_len, self._sk, alg.secret_key_size)
            else:
                status = sv_slhdsa_sign(alg._set, out, alg.signature_size, message, message_len, ctx, ctx_len,
                                        rnd, rnd_len, self._sk, alg.secret_key_size)
        OQS_MEM_cleanse(addrnd, SV_SLHDSA_MAX_N)
        _slh_done(status, alg.name, "signature")
        return signature

    def sign(self, message, context=b"", deterministic=False):
        """Pure SLH-DSA (FIPS 205 Algorithm 22) of ``message`` under ``context`` (at most 255 bytes).

        Hedged by default (opt_rand: n fresh random bytes); ``deterministic=True`` is
        FIPS 205's deterministic variant (opt_rand = PK.seed). The GIL is released.
        """
        cdef Py_buffer v[2]  # message, context
        _acquire_all(v, (message, context), ("message", "context"))
        try:
            _check_slh_context_length(v[1].len)
            return self._sign(<const uint8_t *>v[0].buf, v[0].len, <const uint8_t *>v[1].buf, v[1].len,
                              False, deterministic)
        finally:
            _release_all(v, 2)

    def sign_prehashed(self, digest, hash_algorithm, context=b"", deterministic=False):
        """HashSLH-DSA (FIPS 205 Algorithm 23): sign ``digest``, the ``hash_algorithm`` digest
        of the message ("sha256", "sha512", "shake_128", "shake_256", ...)."""
        cdef bytes mprime = _slh_prehash_message(digest, hash_algorithm, context)
        return self._sign(_bytes_ptr(mprime), len(mprime), NULL, 0, True, deterministic)

    def sign_mu(self, mu, deterministic=False):
        raise UnsupportedAlgorithm(f"{self._alg.name} has no external mu (an ML-DSA operation)")

    def seed_bytes(self):
        """SK.seed || SK.prf || PK.seed: the first 3n bytes of the key, slh_keygen_internal's inputs."""
        return PyBytes_FromStringAndSize(<char *>self._sk, self._alg._seed_size)


# -- C floor (benchmarks) -------------------------------------------------------------

# op -> (loop, its op code): sv_floor_kem, sv_floor_sig (liboqs's API) or sv_floor_mldsa (mldsa-native's).
_FLOOR_OPS = {
    "kem": {"keygen": ("kem", 0), "encaps": ("kem", 1), "decaps": ("kem", 2)},
    "sig": {
        "keygen": ("sig", 0), "sign": ("sig", 1), "verify": ("sig", 2),
        "keygen_seed": ("mldsa", 0), "sign_deterministic": ("mldsa", 1), "sign_mu": ("mldsa", 2),
        "verify_mu": ("mldsa", 3), "sign_prehashed": ("mldsa", 4), "verify_prehashed": ("mldsa", 5),
        "load_expanded": ("mldsa", 6),
    },
    # SLH-DSA: csrc/sv_slhdsa.c's calls (sv_floor_slhdsa), the ones the bindings make.
    "slh": {"keygen_seed": ("slh", 0), "sign": ("slh", 1), "verify": ("slh", 2), "sign_deterministic": ("slh", 3)},
}
_FLOOR_MAX_ITERATIONS = 10_000_000


def c_floor(str algorithm, str op, Py_ssize_t iterations, Py_ssize_t message_len=32):
    """Nanoseconds per call of ``op`` on ``algorithm``, looped in C over the same liboqs calls.

    For ``secretumvault bench``: the floor a binding can at best reach.
    """
    cdef int code
    cdef double ns
    cdef KemMechanism kem
    cdef SigMechanism sig
    cdef SlhMechanism slh
    family = "kem" if algorithm in _KEM_LIBOQS_NAMES else "slh" if algorithm in _SLH_DSA_SETS else "sig"
    mechanism = {"kem": KemMechanism, "slh": SlhMechanism, "sig": SigMechanism}[family].get(algorithm)
    if op not in _FLOOR_OPS[family]:
        raise InvalidArgument(f"no C floor for {shown_name(op)} on {algorithm}; expected one of {', '.join(_FLOOR_OPS[family])}")
    if not 0 < iterations <= _FLOOR_MAX_ITERATIONS:
        raise InvalidArgument(f"iterations must be between 1 and {_FLOOR_MAX_ITERATIONS:,}, got {iterations}")
    if not 0 <= message_len <= 1 << 20:
        raise InvalidArgument(f"message_len must be between 0 and {1 << 20}, got {message_len}")
    loop, code = _FLOOR_OPS[family][op]
    if loop == "kem":
        kem = mechanism
        with nogil:
            ns = sv_floor_kem(kem._kem, code, iterations)
    elif loop == "sig":
        sig = mechanism
        with nogil:
            ns = sv_floor_sig(sig._sig, code, iterations, message_len)
    elif loop == "slh":
        slh = mechanism
        with nogil:
            ns = sv_floor_slhdsa(slh._set, code, iterations)
    else:
        sig = mechanism
        _require_mldsa_native(op)
        with nogil:
            ns = sv_floor_mldsa(sig._level, sig.public_key_size, sig.secret_key_size, sig.signature_size,
                                code, iterations)
    if ns < 0:
        raise NativeError(f"liboqs failed during the {algorithm} {op} floor loop")
    return ns


# -- base64 text (transit) ----------------------------------------------------------

def base64_text(str prefix not None, bytes data not None):
    """``prefix`` (ASCII) followed by the standard, padded base64 of ``data``, as one str.

    What ``prefix + binascii.b2a_base64(data, newline=False).decode()`` gives,
    written straight into the str (csrc/sv_base64.h says why it exists). Keeps
    the GIL: it is a microsecond, and releasing it would make a single transit
    call wait behind a busy thread.
    """
    if not PyUnicode_IS_ASCII(prefix):
        raise InvalidArgument("the prefix of base64 text must be ASCII")
    cdef Py_ssize_t prefix_len = PyUnicode_GET_LENGTH(prefix)
    cdef Py_ssize_t data_len = PyBytes_GET_SIZE(data)
    if data_len > (PY_SSIZE_T_MAX - prefix_len - 4) // 4 * 3:
        raise MemoryError()
    cdef Py_ssize_t encoded_len = <Py_ssize_t>sv_base64_encoded_length(<size_t>data_len)
    text = PyUnicode_New(prefix_len + encoded_len, 127)
    cdef char *out = <char *>PyUnicode_DATA(text)
    memcpy(out, PyUnicode_DATA(prefix), <size_t>prefix_len)
    sv_base64_encode(out + prefix_len, <const uint8_t *>PyBytes_AS_STRING(data), <size_t>data_len)
    return text


# -- module facts -------------------------------------------------------------------

def kem_names():
    return list(_ENABLED_KEMS)


def sig_names():
    return list(_ENABLED_SIGS)


cdef bint _kem_enabled(str name):
    cdef OQS_KEM *kem = OQS_KEM_new(_KEM_LIBOQS_NAMES[name])
    if kem == NULL:
        return False
    OQS_KEM_free(kem)
    return True


cdef bint _sig_enabled(str name):
    cdef OQS_SIG *sig = OQS_SIG_new(_SIG_LIBOQS_NAMES[name])
    if sig == NULL:
        return False
    OQS_SIG_free(sig)
    return True


# What this liboqs build enables is fixed at link time: ask once, not on every
# backend lookup (backend="auto" consults these lists for each Kem/Signature).
_ENABLED_KEMS = tuple(name for name in _KEM_LIBOQS_NAMES if _kem_enabled(name))
_ENABLED_SIGS = tuple(name for name in _SIG_LIBOQS_NAMES if _sig_enabled(name)) + (
    tuple(_SLH_DSA_SETS) if _SLHDSA_C else ()
)


_CPU_FEATURES = {
    "adx": OQS_CPU_EXT_ADX, "aes": OQS_CPU_EXT_AES, "avx": OQS_CPU_EXT_AVX, "avx2": OQS_CPU_EXT_AVX2,
    "avx512": OQS_CPU_EXT_AVX512, "bmi1": OQS_CPU_EXT_BMI1, "bmi2": OQS_CPU_EXT_BMI2,
    "pclmulqdq": OQS_CPU_EXT_PCLMULQDQ, "popcnt": OQS_CPU_EXT_POPCNT, "sse2": OQS_CPU_EXT_SSE2,
    "neon": OQS_CPU_EXT_ARM_NEON, "sha3": OQS_CPU_EXT_ARM_SHA3,
}


def build_info():
    """liboqs version, whether it was vendored or installed, and the CPU features it can dispatch to."""
    return {
        "liboqs_version": OQS_version().decode(),
        "liboqs_origin": SV_LIBOQS_ORIGIN.decode(),
        "cpu_features": [name for name, ext in _CPU_FEATURES.items() if OQS_CPU_has_extension(ext)],
        "kem_algorithms": kem_names(),
        "sig_algorithms": sig_names(),
        # ML-DSA seeds, deterministic signing, external mu, HashML-DSA, expanded-key consistency check
        "mldsa_native": bool(_MLDSA_NATIVE),
        # SLH-DSA (FIPS 205) through slhdsa-c's entry points
        "slhdsa_c": bool(_SLHDSA_C),
        "randomness": "getrandom" if _KERNEL_RANDOMNESS else "liboqs",
    }


# The key classes implement the public interfaces (as pyca/cryptography's Rust
# classes do): isinstance() works, and the .pyi states the same to mypy.
_abc.KemPublicKey.register(KemPublicKey)
_abc.KemSecretKey.register(KemSecretKey)
_abc.SigPublicKey.register(SigPublicKey)
_abc.SigSecretKey.register(SigSecretKey)
_abc.SigPublicKey.register(SlhPublicKey)
_abc.SigSecretKey.register(SlhSecretKey)
