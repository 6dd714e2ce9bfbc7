/*
 * result.c: CNI results in, CNI results out. Reads an IPAM plugin's result (0.3.x, 0.4.0,
 * 1.0.0 or 1.1.0 shape) into struct psw_ipam_result, writes the ADD result in the version
 * the runtime asked for (0.3.x/0.4.0 ips carry "version"; 1.1.0 adds interface "mtu",
 * "socketPath" and route attributes), the error object and the VERSION answer, and reads
 * a prevResult back for CHECK. Plugin process only.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cni.h"

/* "10.1.0.2/24" or "fd00::2/64" -> family, or 0 when it is not a CIDR. */
static int cidr_family(const char *s)
{
	char buf[64], *slash, *end;
	unsigned char tmp[16];
	long plen;
	int fam;

	if (strlen(s) >= sizeof(buf))
		return 0;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	fam = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(fam, buf, tmp) != 1)
		return 0;
	plen = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || plen < 0 || plen > (fam == AF_INET ? 32 : 128))
		return 0;
	return fam;
}

static bool ip_valid(const char *s, int fam)
{
	unsigned char tmp[16];

	return inet_pton(fam, s, tmp) == 1;
}

/* ips of res; when index >= 0 only those whose "interface" is index (or none). */
static int parse_ips(json_t *ips, long index, struct psw_ipam_result *out,
		     struct psw_cni_error *err)
{
	size_t i;
	json_t *ip;

	if (ips && !json_is_array(ips))
		return psw_cni_err(err, PSW_CNI_E_DECODE, "result: \"ips\" is not an array");
	json_array_foreach(ips, i, ip) {
		json_t *addr = json_object_get(ip, "address"), *gw = json_object_get(ip, "gateway");
		json_t *ifx = json_object_get(ip, "interface");
		struct psw_ip *p;
		int fam;

		if (!json_is_string(addr) || !(fam = cidr_family(json_string_value(addr))))
			return psw_cni_err(err, PSW_CNI_E_DECODE,
					   "result: \"ips[%zu].address\" is not an address/prefix", i);
		if (index >= 0 && json_is_integer(ifx) && json_integer_value(ifx) != index)
			continue;
		if (out->n_ips == PSW_MAX_IPS)
			return psw_cni_err(err, PSW_CNI_E_DECODE, "result: more than %d ips",
					   PSW_MAX_IPS);
		p = &out->ips[out->n_ips++];
		memset(p, 0, sizeof(*p));
		p->family = fam;
		snprintf(p->address, sizeof(p->address), "%s", json_string_value(addr));
		if (gw && !json_is_null(gw)) {
			if (!json_is_string(gw) || !ip_valid(json_string_value(gw), fam))
				return psw_cni_err(err, PSW_CNI_E_DECODE,
						   "result: \"ips[%zu].gateway\" is not an address of the same family",
						   i);
			snprintf(p->gateway, sizeof(p->gateway), "%s", json_string_value(gw));
		}
	}
	return 0;
}

static int parse_routes(json_t *routes, struct psw_ipam_result *out, struct psw_cni_error *err)
{
	size_t i;
	json_t *r;

	if (!routes || json_is_null(routes)) {
		out->routes = json_array();
		return 0;
	}
	if (!json_is_array(routes))
		return psw_cni_err(err, PSW_CNI_E_DECODE, "result: \"routes\" is not an array");
	json_array_foreach(routes, i, r) {
		json_t *dst = json_object_get(r, "dst"), *gw = json_object_get(r, "gw");
		int fam;

		if (!json_is_string(dst) || !(fam = cidr_family(json_string_value(dst))))
			return psw_cni_err(err, PSW_CNI_E_DECODE,
					   "result: \"routes[%zu].dst\" is not an address/prefix", i);
		if (gw && (!json_is_string(gw) || !ip_valid(json_string_value(gw), fam)))
			return psw_cni_err(err, PSW_CNI_E_DECODE,
					   "result: \"routes[%zu].gw\" is not an address of the same family",
					   i);
	}
	out->routes = json_deep_copy(routes);
	return 0;
}

int psw_ipam_result_parse(json_t *res, struct psw_ipam_result *out, struct psw_cni_error *err)
{
	json_t *dns;

	memset(out, 0, sizeof(*out));
	if (!res)
		return parse_routes(NULL, out, err);
	if (!json_is_object(res))
		return psw_cni_err(err, PSW_CNI_E_DECODE, "result is not a JSON object");
	if (parse_ips(json_object_get(res, "ips"), -1, out, err) ||
	    parse_routes(json_object_get(res, "routes"), out, err))
		goto fail;
	dns = json_object_get(res, "dns");
	if (json_is_object(dns) && json_object_size(dns) > 0)
		out->dns = json_deep_copy(dns);
	return 0;
fail:
	psw_ipam_result_free(out);
	return -1;
}

void psw_ipam_result_free(struct psw_ipam_result *r)
{
	json_decref(r->routes);
	json_decref(r->dns);
	r->routes = r->dns = NULL;
	r->n_ips = 0;
}

static json_t *build_route(enum psw_cni_version v, json_t *r)
{
	/* 1.1.0 added these route attributes; older results carry dst and gw only. */
	static const char *const v110[] = {"mtu", "advmss", "priority", "table", "scope", NULL};
	json_t *o = json_object();

	json_object_set(o, "dst", json_object_get(r, "dst"));
	if (json_object_get(r, "gw"))
		json_object_set(o, "gw", json_object_get(r, "gw"));
	if (v >= PSW_CNI_V110)
		for (int i = 0; v110[i]; i++)
			if (json_object_get(r, v110[i]))
				json_object_set(o, v110[i], json_object_get(r, v110[i]));
	return o;
}

json_t *psw_result_build(enum psw_cni_version v, const struct psw_attachment *a,
			 const struct psw_ipam_result *ipam, json_t *conf_dns)
{
	json_t *res = json_object(), *ifc = json_object(), *ips = json_array();
	json_t *routes = json_array(), *r;
	size_t i;

	json_object_set_new(res, "cniVersion", json_string(psw_cni_version_name(v)));
	json_object_set_new(ifc, "name", json_string(a->ifname));
	if (a->mac[0])
		json_object_set_new(ifc, "mac", json_string(a->mac));
	if (v >= PSW_CNI_V110 && a->mtu)
		json_object_set_new(ifc, "mtu", json_integer(a->mtu));
	/* Multus records only interfaces that name their sandbox. */
	json_object_set_new(ifc, "sandbox", json_string(a->sandbox ? a->sandbox : ""));
	if (v >= PSW_CNI_V110 && a->socket_path[0])
		json_object_set_new(ifc, "socketPath", json_string(a->socket_path));
	json_object_set_new(res, "interfaces", json_pack("[o]", ifc));
	for (unsigned k = 0; ipam && k < ipam->n_ips; k++) {
		const struct psw_ip *p = &ipam->ips[k];
		json_t *o = json_object();

		if (v < PSW_CNI_V100)
			json_object_set_new(o, "version",
					    json_string(p->family == AF_INET ? "4" : "6"));
		json_object_set_new(o, "address", json_string(p->address));
		if (p->gateway[0])
			json_object_set_new(o, "gateway", json_string(p->gateway));
		json_object_set_new(o, "interface", json_integer(0));
		json_array_append_new(ips, o);
	}
	json_object_set_new(res, "ips", ips);
	json_array_foreach(ipam ? ipam->routes : NULL, i, r)
		json_array_append_new(routes, build_route(v, r));
	json_object_set_new(res, "routes", routes);
	if (ipam && ipam->dns)
		json_object_set(res, "dns", ipam->dns);
	else if (json_is_object(conf_dns) && json_object_size(conf_dns) > 0)
		json_object_set(res, "dns", conf_dns);
	else
		json_object_set_new(res, "dns", json_object());
	return res;
}

json_t *psw_result_chain(json_t *prev, json_t *ours)
{
	json_t *out = json_deep_copy(prev), *ifs, *ips, *routes, *v, *dns;
	size_t base, i;

	if (!json_is_object(out)) {
		json_decref(out);
		return json_incref(ours);
	}
	json_object_set(out, "cniVersion", json_object_get(ours, "cniVersion"));
	ifs = json_object_get(out, "interfaces");
	if (!json_is_array(ifs)) {
		ifs = json_array();
		json_object_set_new(out, "interfaces", ifs);
	}
	base = json_array_size(ifs);
	json_array_extend(ifs, json_object_get(ours, "interfaces"));
	ips = json_object_get(out, "ips");
	if (!json_is_array(ips)) {
		ips = json_array();
		json_object_set_new(out, "ips", ips);
	}
	/* Our addresses point at our interface, now after the earlier plugins' ones. */
	json_array_foreach(json_object_get(ours, "ips"), i, v) {
		json_t *ip = json_deep_copy(v);

		json_object_set_new(ip, "interface",
				    json_integer(base + json_integer_value(json_object_get(v, "interface"))));
		json_array_append_new(ips, ip);
	}
	routes = json_object_get(out, "routes");
	if (!json_is_array(routes)) {
		routes = json_array();
		json_object_set_new(out, "routes", routes);
	}
	json_array_extend(routes, json_object_get(ours, "routes"));
	dns = json_object_get(ours, "dns");
	if (json_object_size(dns) > 0 || !json_object_get(out, "dns"))
		json_object_set(out, "dns", dns);
	return out;
}

json_t *psw_result_error(const char *version, const struct psw_cni_error *err)
{
	json_t *o = json_pack("{s:s, s:i, s:s}", "cniVersion",
			      version && *version ? version : psw_cni_version_name(PSW_CNI_VERSION_LATEST),
			      "code", err->code, "msg", err->msg);

	if (o && err->details[0])
		json_object_set_new(o, "details", json_string(err->details));
	return o;
}

json_t *psw_result_version(const char *requested)
{
	json_t *sup = json_array();
	const char *v = psw_cni_version_name(PSW_CNI_VERSION_LATEST);

	for (int i = 0; i < PSW_CNI_V_COUNT; i++)
		json_array_append_new(sup, json_string(psw_cni_version_name(i)));
	if (requested && psw_cni_version_parse(requested) >= 0)
		v = requested;
	return json_pack("{s:s, s:o}", "cniVersion", v, "supportedVersions", sup);
}

int psw_prev_result_parse(json_t *prev, const char *ifname, const char *sandbox,
			  struct psw_ipam_result *out, char mac[18], struct psw_cni_error *err)
{
	json_t *ifs = json_object_get(prev, "interfaces"), *ifc;
	long index = -1;
	size_t i;

	memset(out, 0, sizeof(*out));
	mac[0] = '\0';
	json_array_foreach(ifs, i, ifc) {
		const char *name = json_string_value(json_object_get(ifc, "name"));
		const char *sb = json_string_value(json_object_get(ifc, "sandbox"));

		if (name && !strcmp(name, ifname) && sb && sandbox && !strcmp(sb, sandbox)) {
			const char *m = json_string_value(json_object_get(ifc, "mac"));

			index = i;
			if (m)
				snprintf(mac, 18, "%s", m);
			break;
		}
	}
	if (index < 0)
		return psw_cni_err(err, PSW_CNI_E_CHECK,
				   "prevResult has no interface %s in sandbox %s", ifname,
				   sandbox ? sandbox : "");
	if (parse_ips(json_object_get(prev, "ips"), index, out, err) ||
	    parse_routes(json_object_get(prev, "routes"), out, err)) {
		psw_ipam_result_free(out);
		return -1;
	}
	return 0;
}
