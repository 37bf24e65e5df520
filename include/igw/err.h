/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw error codes. Every igw function that can fail returns int: 0 (IGW_OK) on success or one
 * of these codes. Foreign codes (LMDB, nng, curl, errno) are mapped at the module boundary.
 * Human detail goes in a caller-supplied error buffer of IGW_ERRBUF_SIZE bytes. Only codes
 * that some function returns are listed (a new code comes with its first use); the numbers are
 * not stable across versions and are never stored or sent.
 */
#ifndef IGW_ERR_H
#define IGW_ERR_H

#define IGW_ERRBUF_SIZE 256

enum igw_err {
    IGW_OK = 0,
    IGW_ENOMEM,     /* allocation failed */
    IGW_EINVAL,     /* invalid argument or input */
    IGW_EAGAIN,     /* try again later */
    IGW_ENOSPC,     /* storage full (the queue backend has no room) */
    IGW_ECLOSED,    /* object closed or shutting down */
    IGW_ETRANSLATE, /* translation (mapping) failed */
    IGW_ENOENT,     /* not found */
    IGW_EIO,        /* I/O error (disk, network) */
    IGW_ETOOBIG,    /* exceeds a size limit */
    IGW_ELIMIT,     /* exceeds a processing limit (depth, iterations) */
    IGW_EAUTH,      /* authentication failed: credentials missing or unknown */
    IGW_EPERM,      /* credentials valid, but not for this resource */
    IGW_EPARSE,     /* malformed input */
    IGW_ECONFIG,    /* bad configuration */
    IGW_EINTERNAL,  /* broken invariant; a bug */
    IGW_ETIMEDOUT,  /* a time limit passed (an upstream did not answer in time) */
    IGW_ECONFLICT,  /* the state forbids it: a precondition failed, or nothing to do */
    IGW_ERR_COUNT
};

/** Returns a static English description of an igw error code; never NULL. */
const char *igw_strerror(int err);

/** Writes a formatted message into errbuf (errlen bytes, may be 0); truncates safely. */
void igw_errbuf_set(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* IGW_ERR_H */
