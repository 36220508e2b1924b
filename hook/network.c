// SPDX-License-Identifier: Apache-2.0
/*
 * network.c - "circuit network create|connect|disconnect|delete" (ls,
 * inspect and export: hook/network_show.c): parse the arguments, call
 * lib/network.h, print.  Also the
 * context those library calls get from the CLI (cli_net_ctx): the plugin
 * path, the message lines, and the verb groups' per-member and per-network
 * callbacks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>

#include "cleanup.h"
#include "cli.h"
#include "cluster_local.h"
#include "cluster_members.h"
#include "network.h"
#include "nl.h"
#include "output.h"
#include "portmap.h"
#include "qos_cli.h"
#include "runc.h"

/* ---- the library's context ---- */

static void net_log(void *arg, enum cir_log_level level, const char *msg)
{
	cir_log(level, "%s", msg);
}

static int net_member_gone(void *arg, struct cir_network *n, const char *cid,
			   struct cir_error *err)
{
	return cli_qos_member_gone(arg, n, cid, err);
}

static int net_delete_groups(void *arg, struct cir_network *n, struct cir_error *err)
{
	int r = 0;

	for (const struct cli_group *g = cli_groups; r >= 0 && g->name; g++)
		if (g->network_delete)
			r = g->network_delete(arg, n, err);
	return r;
}

const struct cir_net_ctx *cli_net_ctx(struct cli *c)
{
	c->net = (struct cir_net_ctx){ .plugin_path = c->plugin_path, .log = net_log,
				       .debug = cir_log_enabled(CIR_LOG_DEBUG),
				       .member_gone = net_member_gone,
				       .network_delete = net_delete_groups, .arg = c };
	return &c->net;
}

/* ---- commands ---- */

static int parse_pid(struct cli *c, const char *s, long long *pid)
{
	unsigned long long v;

	if (cli_parse_uint(s, 1, 4194304, &v) < 0)
		return cli_usage(c, "invalid PID \"%s\"", s);
	*pid = (long long)v;
	return 0;
}

/* PID or runc container ID: *id is NULL for a PID (in *pid), else the ID,
 * checked as a CNI container id (it names a file under runc's root). */
static int parse_container(struct cli *c, const char *s, long long *pid, const char **id)
{
	struct cir_error e = CIR_ERROR_INIT;
	char shown[64];

	*id = NULL;
	*pid = 0;
	if (cli_arg_is_pid(s))
		return parse_pid(c, s, pid);
	if (cir_cni_check_containerid(s, &e) < 0)
		return cli_usage(c, "invalid PID or container ID \"%s\"",
				 cir_err_shown(s, shown, sizeof(shown)));
	*id = s;
	return 0;
}

/* network create NAME SUBNET --scope cluster: the record in etcd. */
static int create_cluster(struct cli *c, const struct cli_args *a, const char *subnet)
{
	struct cir_error err = CIR_ERROR_INIT;

	if (strcmp(cli_opt(a, "scope"), "cluster") != 0)
		return cli_usage(c, "invalid --scope \"%.32s\" (local or cluster)",
				 cli_opt(a, "scope"));
	if (!subnet || cli_opt(a, "subnet") || cli_opt(a, "gateway") || cli_opt(a, "mtu") ||
	    cli_opt(a, "conflist") || cli_opt(a, "no-masquerade") ||
	    cli_opt(a, "no-masquerade6") || cli_opt(a, "driver") || cli_opt(a, "vlan") ||
	    cli_opt(a, "ovsdb-socket"))
		return cli_usage(c, "--scope cluster takes NAME SUBNET and --vni, "
				    "--block-size, --allow-reserved only (the MTU follows "
				    "the underlay)");
	if (cli_cluster_net_create(c, a->pos[0], subnet, cli_opt(a, "vni"),
				   cli_opt(a, "block-size"), &err) < 0)
		return cli_fail(c, &err);
	cli_info("%s created (cluster)", a->pos[0]);
	return CLI_OK;
}

/* --driver bridge|ovs and the ovs options (spec/ovs.md). */
static int create_driver(struct cli *c, const struct cli_args *a, struct cir_net_spec *spec)
{
	struct cir_error err = CIR_ERROR_INIT;
	const char *driver = cli_opt(a, "driver"), *vlan = cli_opt(a, "vlan");
	unsigned long long v;

	if (driver && cir_net_driver_parse(driver, &spec->driver, &err) < 0)
		return cli_usage(c, "invalid --%s", err.msg);
	if (driver && spec->conflist)
		return cli_usage(c, "--conflist takes no --driver: the chain names its plugins");
	spec->ovsdb = cli_opt(a, "ovsdb-socket");
	if ((vlan || spec->ovsdb) && spec->driver != CIR_NET_DRIVER_OVS)
		return cli_usage(c, "--vlan and --ovsdb-socket need --driver ovs");
	if (vlan) {
		if (cli_parse_uint(vlan, 1, 4094, &v) < 0)
			return cli_usage(c, "invalid --vlan \"%s\" (1..4094)", vlan);
		spec->vlan = (unsigned int)v;
	}
	return CLI_OK;
}

/* The options of a local network into spec: CLI_OK or cli_usage(). */
static int create_spec(struct cli *c, const struct cli_args *a, struct cir_net_spec *spec)
{
	const char *mtu = cli_opt(a, "mtu");

	if (cli_opt(a, "vni") || cli_opt(a, "block-size"))
		return cli_usage(c, "--vni and --block-size need --scope cluster");
	spec->n_more = cli_opt_all(a, "subnet", &spec->more_subnets);
	spec->gateway = cli_opt(a, "gateway");
	spec->no_masquerade = cli_opt(a, "no-masquerade") != NULL;
	spec->no_masquerade6 = cli_opt(a, "no-masquerade6") != NULL;
	spec->allow_reserved = cli_opt(a, "allow-reserved") != NULL;
	spec->conflist = cli_opt(a, "conflist");
	spec->cni_version = cli_opt(a, "cni-version");
	if (spec->cni_version && !cir_cni_version_supported(spec->cni_version))
		return cli_usage(c, "invalid --cni-version \"%s\" (%s)", spec->cni_version,
				 CIR_CNI_VERSIONS_TEXT);
	if (spec->conflist && (spec->subnet || spec->n_more || spec->gateway || mtu ||
			       spec->no_masquerade || spec->no_masquerade6))
		return cli_usage(c, "--conflist takes no SUBNET, --subnet, --gateway, --mtu, "
				    "--no-masquerade or --no-masquerade6: the chain says it all");
	if (!spec->subnet && spec->n_more) {
		/* NAME --subnet A [--subnet B]: the first is the SUBNET. */
		spec->subnet = spec->more_subnets[0];
		spec->more_subnets++;
		spec->n_more--;
	}
	if (!spec->conflist && !spec->subnet)
		return cli_usage(c, "missing SUBNET");
	if (mtu) {
		unsigned long long v;

		if (cli_parse_uint(mtu, 68, 65535, &v) < 0)
			return cli_usage(c, "invalid --mtu \"%s\" (68..65535)", mtu);
		spec->mtu = (unsigned int)v;
	}
	return create_driver(c, a, spec);
}

static int cmd_create(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_net_spec spec = { .name = a->pos[0], .subnet = a->npos > 1 ? a->pos[1] : NULL };
	_cleanup_close_ int lock = -1;
	int r;

	if (cli_opt(a, "scope") && strcmp(cli_opt(a, "scope"), "local") != 0)
		return create_cluster(c, a, spec.subnet);
	r = create_spec(c, a, &spec);
	if (r)
		return r;
	r = cli_db_open(c, &db, &err);
	if (r >= 0)
		r = lock = cir_netdb_lock(&db, &err);
	if (r >= 0)
		r = cir_net_create(cli_net_ctx(c), &db, &spec, &err);
	if (r < 0)
		return cli_fail(c, &err);
	cli_info("%s created", spec.name);
	return CLI_OK;
}

static int cmd_connect(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_net_attach att = { 0 };
	const char *id;
	int r;

	r = parse_container(c, a->pos[0], &att.pid, &id);
	if (r)
		return r;
	att.ip = cli_opt(a, "ip");
	att.ifname = cli_opt(a, "ifname");
	{
		const char *const *pub = NULL;

		att.n_publish = cli_opt_all(a, "publish", &pub);
		att.publish = pub;
		/* Bad input is a usage error, one line, before any state. */
		for (int i = 0; i < att.n_publish; i++) {
			struct cir_publish p;

			if (cir_publish_parse(pub[i], &p, &err) < 0)
				return cli_fail(c, &err);
		}
	}
	if (id) {
		/* A runc container: its init process, and its ID as the CNI
		 * container id (as the hook attaches it). */
		if (cir_runc_pid(NULL, id, &att.pid, &err) < 0)
			return cli_fail(c, &err);
		att.cid = att.name = id;
	}
	r = cli_db_open(c, &db, &err);
	if (r >= 0)
		r = cir_cluster_net_open_any(cli_net_ctx(c), c->state_dir, &db, false, a->pos[1],
					     true, &n, &err);
	if (r >= 0)
		r = cir_net_connect(cli_net_ctx(c), &n, &att, NULL, &err);
	cir_network_close(&n);
	cir_netdb_close(&db);
	if (r < 0)
		return cli_fail(c, &err);
	if (id)
		cli_info("connected container %s to network %s", id, a->pos[1]);
	else
		cli_info("connected container %lld to network %s", att.pid, a->pos[1]);
	return CLI_OK;
}

static int cmd_disconnect(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_member m;
	long long pid;
	const char *id;
	int r;

	r = parse_container(c, a->pos[0], &pid, &id);
	if (r)
		return r;
	r = cli_db_open(c, &db, &err);
	if (r >= 0)
		r = cir_network_open(&db, a->pos[1], true, &n, &err);
	if (r >= 0)
		r = cir_net_find_member(&n, id, pid, &m, &err);
	if (r >= 0)
		r = cir_net_disconnect(cli_net_ctx(c), &n, &m, &err);
	cir_network_close(&n);
	cir_netdb_close(&db);
	if (r < 0)
		return cli_fail(c, &err);
	if (id)
		cli_info("disconnected container %s from network %s", id, a->pos[1]);
	else
		cli_info("disconnected container %lld from network %s", pid, a->pos[1]);
	return CLI_OK;
}

static int cmd_delete(struct cli *c, const struct cli_args *a)
{
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_error err = CIR_ERROR_INIT;
	_cleanup_close_ int lock = -1;
	int r;

	r = cli_db_open(c, &db, &err);
	if (r >= 0)
		r = lock = cir_netdb_lock(&db, &err);
	if (r >= 0)
		r = cir_cluster_net_delete_any(cli_net_ctx(c), c->state_dir, &db, a->pos[0], &err);
	if (r < 0)
		return cli_fail(c, &err);
	cli_info("%s deleted", a->pos[0]);
	return CLI_OK;
}

const struct cli_cmd cli_network_cmds[] = {
	{ "create", "NAME SUBNET [--subnet SUBNET] [--gateway IP] [--no-masquerade] "
	  "[--no-masquerade6] [--mtu N] [--driver bridge|ovs [--vlan N] [--ovsdb-socket PATH]] "
	  "| NAME --conflist FILE",
	  "create a network: bridge c-NAME, gateway, masquerade and a CNI conflist",
	  "Examples:\n"
	  "  circuit network create sandbox 10.254.1.0/24\n"
	  "  circuit network create dual 10.254.3.0/24 --subnet fd00:1::/64\n"
	  "  circuit network create db 10.254.2.0/24 --gateway 10.254.2.254 --mtu 1400\n"
	  "  circuit network create lab --conflist /etc/cni/net.d/lab.conflist\n"
	  "  circuit network create sw 10.254.4.0/24 --driver ovs --vlan 10\n"
	  "A subnet must not overlap another network or an address on this host.\n"
	  "--subnet adds a subnet of the other address family (dual stack): the\n"
	  "bridge gets a gateway of each, each container an address of each and\n"
	  "both default routes.\n"
	  "With --conflist the chain may name any CNI plugins (bridge, host-local,\n"
	  "portmap, bandwidth, firewall ...); the name on the command line wins.\n"
	  "--driver ovs puts the network on an Open vSwitch bridge (circuit-ovs,\n"
	  "spoken to over ovsdb-server's socket; ovs-vswitchd must run); --vlan\n"
	  "tags every container's port.\n"
	  "The conflist says cniVersion 1.0.0 (what podman 4 and containerd 1.6\n"
	  "read); --cni-version V sets another, also on an imported one.\n"
	  "--scope cluster records the network in the cluster's etcd: every host\n"
	  "sees it and makes it (bridge, gateway, VXLAN port) when it is used there:\n"
	  "  circuit network create blue 10.128.0.0/16 --scope cluster --vni 4242\n",
	  { { "subnet", true, "SUBNET", "another subnet, at most one per address family" },
	    { "gateway", true, "IP", "gateway address on the bridge (default: first host of "
	      "each subnet; this one for its family)" },
	    { "no-masquerade", false, NULL, "do not masquerade traffic leaving the subnets" },
	    { "no-masquerade6", false, NULL, "masquerade IPv4 only (a routed IPv6 prefix)" },
	    { "mtu", true, "N", "MTU of the bridge and container interfaces" },
	    { "conflist", true, "FILE", "import a CNI conflist (or single-plugin .conf)" },
	    { "allow-reserved", false, NULL, "allow a loopback, link-local, multicast range" },
	    { "cni-version", true, "V", "cniVersion of the conflist (default 1.0.0)" },
	    { "scope", true, "SCOPE", "local (default) or cluster: a network across hosts" },
	    { "vni", true, "N", "cluster: VXLAN network id (default from the name)" },
	    { "block-size", true, "N", "cluster: prefix length of a host's address blocks "
	      "(default 26, IPv6 122)" },
	    { "driver", true, "DRIVER", "bridge (default: a Linux bridge) or ovs (Open vSwitch)" },
	    { "vlan", true, "N", "ovs: VLAN tag of the containers' ports (1..4094)" },
	    { "ovsdb-socket", true, "PATH", "ovs: ovsdb-server's socket "
	      "(default /run/openvswitch/db.sock)" } },
	  1, 2, cmd_create },
	{ "ls", "[--format table|json]", "list networks",
	  "Examples:\n  circuit network ls\n  circuit network ls --format json\n",
	  { { "format", true, "FORMAT", "table (default) or json" } }, 0, 0, cli_network_ls },
	{ "inspect", "NAME", "show a network, its members and its QoS as JSON",
	  "Example:\n  circuit network inspect sandbox\n", { { NULL } }, 1, 1, cli_network_inspect },
	{ "export", "NAME [--cni-version V]",
	  "print the network's CNI conflist (for other CNI runtimes)",
	  "--cni-version prints the same chain at another cniVersion\n"
	  "(" CIR_CNI_VERSIONS_TEXT ") for a runtime that wants it;\n"
	  "the stored conflist does not change.\n"
	  "Examples:\n  circuit network export sandbox > /etc/cni/net.d/10-sandbox.conflist\n"
	  "  circuit network export sandbox --cni-version 0.4.0\n",
	  { { "cni-version", true, "V", "print at this cniVersion" } }, 1, 1, cli_network_export },
	{ "connect", "PID|ID NAME [--ip IP] [--ifname IF] [--publish SPEC]...",
	  "attach the network namespace of process PID (or runc container ID)",
	  "The container gets eth0, or the next free ethN when it already has one.\n"
	  "A runc container ID is looked up in runc's state ($CIRCUIT_RUNC_ROOT,\n"
	  "default /run/runc) and becomes the CNI container id.\n"
	  "Examples:\n  circuit network connect 4668 sandbox\n"
	  "  circuit network connect web-00 sandbox\n"
	  "  circuit network connect 4668 sandbox --ip 10.254.1.10 --ifname eth1\n"
	  "  circuit network connect 4668 sandbox --publish 8080:80\n"
	  "  circuit network connect 4668 sandbox --publish 127.0.0.1:5353:53/udp\n"
	  "  circuit network connect 4668 sandbox --publish 9000-9001:80-81\n"
	  "  circuit network connect 4668 sandbox --publish [fd00::1]:8443:443\n"
	  "A published port is reachable at any host address (or HOSTIP) of the\n"
	  "host, from outside, from the host itself (127.0.0.1 too) and from other\n"
	  "containers; a host port published already is refused.\n",
	  { { "ip", true, "IP", "request this address" },
	    { "ifname", true, "IF", "container interface name" },
	    { "publish", true, "SPEC",
	      "publish a container port on the host: [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp] "
	      "(repeatable; ranges A-B:C-D; an IPv6 HOSTIP in brackets)" } },
	  2, 2, cmd_connect },
	{ "disconnect", "PID|ID NAME",
	  "detach a process's (or runc container's) namespace from a network",
	  "A runc container ID finds the member connected by that ID or by the PID\n"
	  "runc recorded for it.\n"
	  "Examples:\n  circuit network disconnect 4668 sandbox\n"
	  "  circuit network disconnect web-00 sandbox\n", { { NULL } }, 2, 2,
	  cmd_disconnect },
	{ "delete", "NAME", "disconnect all members and remove the network",
	  "Example:\n  circuit network delete sandbox\n", { { NULL } }, 1, 1, cmd_delete },
	{ NULL },
};

