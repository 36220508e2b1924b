/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cni.h - the CNI plugin contract (spec 1.1.0, compatible back to 0.3.0).
 *
 * The skeleton (cir_cni_main) reads the environment and stdin, negotiates
 * the version, dispatches to the plugin's callbacks and prints either the
 * result or the CNI error JSON on stdout, as libcni expects.  Callbacks get
 * parsed, validated structs; only the plugin-specific config keys are left
 * for them to read from conf->root through json.h getters.
 */
#ifndef CIR_CNI_H
#define CIR_CNI_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "json.h"

#define CIR_CNI_SPEC_VERSION "1.1.0"
#define CIR_CNI_ID_MAX 253           /* container ID length limit */
#define CIR_CNI_NAME_MAX 64          /* network name length limit */
#define CIR_IFNAMSIZ 16              /* IFNAMSIZ incl. NUL */

enum cir_cni_cmd {
	CIR_CNI_CMD_NONE = 0,
	CIR_CNI_CMD_ADD,
	CIR_CNI_CMD_DEL,
	CIR_CNI_CMD_CHECK,
	CIR_CNI_CMD_GC,
	CIR_CNI_CMD_STATUS,
	CIR_CNI_CMD_VERSION,
};

const char *cir_cni_cmd_name(enum cir_cni_cmd c);
enum cir_cni_cmd cir_cni_cmd_parse(const char *s);

struct cir_cni_env {
	enum cir_cni_cmd cmd;
	const char *containerid;     /* borrowed from environ */
	const char *netns;
	const char *ifname;
	const char *args;            /* CNI_ARGS raw, may be NULL */
	const char *path;            /* CNI_PATH raw, may be NULL */
};

/* Read CNI_* variables from the environment and validate them for the
 * command (spec "Parameters"): -EINVAL with code 4 (invalid env). */
int cir_cni_env_load(struct cir_cni_env *env, struct cir_error *err);

/* Look up KEY in CNI_ARGS ("K=V;K=V").  Returns 1 and copies V into buf, 0 if
 * absent, -EINVAL if malformed or too long. */
int cir_cni_args_get(const char *args, const char *key, char *buf, size_t len,
		     struct cir_error *err);

/* Versions: every version we accept, oldest first. */
extern const char *const cir_cni_versions[];
/* The same list, for messages. */
#define CIR_CNI_VERSIONS_TEXT "0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0"
bool cir_cni_version_supported(const char *v);

/* CHECK came with 0.4.0, GC and STATUS with 1.1.0: -EINVAL (CNI code 1)
 * when cmd is newer than version. */
int cir_cni_version_gate(enum cir_cni_cmd cmd, const char *version, struct cir_error *err);
/* <0, 0, >0 like strcmp over dotted versions. */
int cir_cni_version_cmp(const char *a, const char *b);

/* Validators shared by plugins and the CLI.  Return 0 or -EINVAL + message. */
int cir_cni_check_containerid(const char *id, struct cir_error *err);
int cir_cni_check_network_name(const char *name, struct cir_error *err);
int cir_cni_check_ifname(const char *ifname, struct cir_error *err);

/* ---- results ---- */
#define CIR_CNI_MAX_IFACES 8
#define CIR_CNI_MAX_IPS 8
#define CIR_CNI_MAX_ROUTES 32
#define CIR_CNI_MAX_DNS 8

struct cir_cni_iface {
	char name[CIR_IFNAMSIZ];
	char mac[24];
	unsigned int mtu;            /* 0 = omit */
	char sandbox[256];           /* empty = host interface */
};

struct cir_cni_ip {
	char address[64];            /* CIDR "10.0.0.2/24" */
	char gateway[48];            /* may be empty */
	int iface;                   /* index into interfaces, -1 = none */
};

struct cir_cni_route {
	char dst[64];
	char gw[48];                 /* may be empty */
};

struct cir_cni_dns {
	char nameservers[CIR_CNI_MAX_DNS][48];
	size_t n_nameservers;
	char domain[256];
	char search[CIR_CNI_MAX_DNS][256];
	size_t n_search;
	char options[CIR_CNI_MAX_DNS][64];
	size_t n_options;
};

struct cir_cni_result {
	struct cir_cni_iface ifaces[CIR_CNI_MAX_IFACES];
	size_t n_ifaces;
	struct cir_cni_ip ips[CIR_CNI_MAX_IPS];
	size_t n_ips;
	struct cir_cni_route routes[CIR_CNI_MAX_ROUTES];
	size_t n_routes;
	struct cir_cni_dns dns;
};

/* Parse a result object (prevResult, a delegate's stdout) of any supported
 * version into *res.  -EINVAL/-EBADMSG with code 6 or 7 on bad input. */
int cir_cni_result_parse(const struct cir_jnode *n, struct cir_cni_result *res,
			 struct cir_error *err);

/* Emit *res as version `version` into g (one JSON object). */
void cir_cni_result_emit(struct cir_jgen *g, const struct cir_cni_result *res,
			 const char *version);

/* Whole result document as a string (owned by *gen). */
int cir_cni_result_format(const struct cir_cni_result *res, const char *version,
			  struct cir_jgen **gen, const char **out, struct cir_error *err);

/*
 * Append helpers: return the new index, or -ENOSPC when the result holds
 * its maximum already and -ENAMETOOLONG when a string does not fit its
 * field (nothing is truncated), both with CNI code 999.  A caller that
 * cannot append must fail: a result missing an entry is a wrong result.
 */
int cir_cni_result_add_iface(struct cir_cni_result *res, const char *name, const char *mac,
			     unsigned int mtu, const char *sandbox, struct cir_error *err)
	__attribute__((warn_unused_result));
int cir_cni_result_add_ip(struct cir_cni_result *res, const char *cidr, const char *gw,
			  int iface, struct cir_error *err) __attribute__((warn_unused_result));
int cir_cni_result_add_route(struct cir_cni_result *res, const char *dst, const char *gw,
			     struct cir_error *err) __attribute__((warn_unused_result));

/* ---- config ---- */
struct cir_cni_conf {
	struct cir_json *doc;        /* owned */
	const struct cir_jnode *root;
	const char *cni_version;
	const char *name;
	const char *type;
	const char *ipam_type;       /* NULL when no ipam section */
	const struct cir_jnode *ipam;
	const struct cir_jnode *runtime_config;
	const struct cir_jnode *prev_result_node;
	bool has_prev_result;
	struct cir_cni_result prev_result;
	const char *raw;             /* stdin bytes (for delegates), NUL-terminated */
	size_t raw_len;
};

/* Parse stdin bytes into *conf (takes ownership of nothing; copies buf). */
int cir_cni_conf_parse(const char *buf, size_t len, enum cir_cni_cmd cmd,
		       struct cir_cni_conf *conf, struct cir_error *err);
void cir_cni_conf_free(struct cir_cni_conf *conf);

/* ---- error output ---- */
/*
 * The error reply {cniVersion, code, msg, details} as a string owned by
 * *gen.  version is the caller's (CIR_CNI_SPEC_VERSION when NULL or not
 * one we support); bytes of err->msg that are not UTF-8 become U+FFFD, so
 * only running out of memory makes this fail.
 */
int cir_cni_error_format(const char *version, const struct cir_error *err,
			 struct cir_jgen **gen, const char **out, struct cir_error *e2);

/* Print the error reply on stdout.  Without memory for the generator it
 * prints the same fields with the message reduced to printable ASCII.
 * Returns 0, or -errno when stdout did not take it all. */
int cir_cni_print_error(const char *version, const struct cir_error *err);

/* ---- the skeleton ---- */
struct cir_cni_ctx {
	const struct cir_cni_env *env;
	const struct cir_cni_conf *conf;
	struct cir_cni_result *result;       /* ADD: fill this */
};

struct cir_cni_plugin {
	const char *name;                    /* "circuit-bridge" */
	const char *about;
	int (*add)(struct cir_cni_ctx *ctx, struct cir_error *err);
	int (*del)(struct cir_cni_ctx *ctx, struct cir_error *err);
	int (*check)(struct cir_cni_ctx *ctx, struct cir_error *err);
	int (*gc)(struct cir_cni_ctx *ctx, struct cir_error *err);
	int (*status)(struct cir_cni_ctx *ctx, struct cir_error *err);
	/* ADD results of IPAM plugins carry no interfaces. */
};

/*
 * Call p's verb for cmd on ctx (no printing): ADD without an add verb is
 * -EOPNOTSUPP; a missing DEL, CHECK, GC or STATUS succeeds.  The one
 * dispatch of cir_cni_main and of the in-process built-ins.
 */
int cir_cni_run_verb(const struct cir_cni_plugin *p, enum cir_cni_cmd cmd,
		     struct cir_cni_ctx *ctx, struct cir_error *err);

/* Run a plugin: returns the process exit status.  Once the environment and
 * the config are parsed, and before any callback runs, sandbox(conf) must
 * install the plugin's seccomp filter (lib/sandbox.h); its error is the
 * plugin's error. */
int cir_cni_main(const struct cir_cni_plugin *p,
		 int (*sandbox)(const struct cir_cni_conf *conf, struct cir_error *err));

/* GC: the valid attachments list from conf ("cni.dev/valid-attachments").
 * Calls fn for each (containerID, ifname); fn returns <0 to stop. */
int cir_cni_valid_attachments(const struct cir_cni_conf *conf,
			      int (*fn)(const char *cid, const char *ifname, void *arg),
			      void *arg, struct cir_error *err);

/*
 * Circuit's cautious GC.  `circuit gc` is not the only runtime of a
 * network: podman or containerd may run the same conflist, and their
 * attachments are not in Circuit's list.  It sets
 * "circuit.dev/gc-keep-live": true in the GC config, and Circuit's plugins
 * then release an attachment missing from cni.dev/valid-attachments only
 * when it is provably dead (its network namespace is gone).  Without the
 * key GC follows the CNI spec: the runtime's list is complete.
 */
#define CIR_CNI_GC_KEEP_LIVE "circuit.dev/gc-keep-live"
bool cir_cni_gc_keep_live(const struct cir_cni_conf *conf);

/* ---- delegation (IPAM and chained plugins) ---- */

/* Find executable `type` on the colon-separated search path. */
int cir_cni_find_plugin(const char *type, const char *search_path, char *out, size_t outlen,
			struct cir_error *err);

/*
 * Run plugin `type` (found on search_path) with CNI_COMMAND=cmd and the rest
 * of the current environment overridden by env (may be NULL: inherit), feeding
 * stdin_buf.  On success, if res is non-NULL and the plugin printed a
 * result, parse it into *res.  A plugin error becomes *err with its code and msg.
 */
struct cir_cni_exec_env {
	const char *containerid, *netns, *ifname, *args, *path;
};
int cir_cni_exec(const char *type, const char *search_path, enum cir_cni_cmd cmd,
		 const struct cir_cni_exec_env *env, const char *stdin_buf, size_t stdin_len,
		 struct cir_cni_result *res, char **out_stdout, struct cir_error *err);

/*
 * Plugins linked into the calling executable.  Once registered, a plugin
 * whose name equals the `type` cir_cni_exec() is asked to run is called
 * in-process: same stdin bytes, same env values, same result and errors as
 * the executable of that name, minus one fork+exec and dynamic link (~1 ms
 * each).  CIRCUIT_EXEC_PLUGINS=1 in the environment turns this off.  At most
 * CIR_CNI_MAX_BUILTINS; registering more is ignored.
 */
#define CIR_CNI_MAX_BUILTINS 8
void cir_cni_builtin_register(const struct cir_cni_plugin *p);
/* Is type one of the registered plugins (whatever CIRCUIT_EXEC_PLUGINS says)? */
bool cir_cni_builtin_known(const char *type);
/* Will cir_cni_exec run type in-process (registered, and
 * CIRCUIT_EXEC_PLUGINS is not 1)?  A sandbox allows exec when not. */
bool cir_cni_builtin_runs(const char *type);

#endif
