# Every part replaceable: circuit-bridge over the reference host-local IPAM,
# and circuit-ipam under the reference bridge plugin (both from Debian's
# containernetworking-plugins), in the 0.4.0 dialect podman 4 speaks.
[ -x /usr/lib/cni/bridge ] || die "containernetworking-plugins not installed"
mkns a1; mkns a2; mkns b1; mkns b2

hl='{"cniVersion":"0.4.0","name":"hlnet","type":"circuit-bridge","isDefaultGateway":true,
     "ipam":{"type":"host-local","subnet":"10.97.0.0/24","dataDir":"/var/lib/cni/networks"}}'
ra=$(echo "$hl" | cni ADD $BIN/circuit-bridge a1 /run/netns/a1 eth0)
echo "$hl" | cni ADD $BIN/circuit-bridge a2 /run/netns/a2 eth0 >/dev/null
assert_eq 4 "$(json_get "$ra" 'd["ips"][0]["version"]')" "0.4.0 ips carry version"
assert_eq "10.97.0.2/24" "$(json_get "$ra" 'd["ips"][0]["address"]')" "host-local address"
ip netns exec a1 busybox ping -c1 -W2 10.97.0.3 >/dev/null || die "a1 -> a2"
ip netns exec a1 busybox ping -c1 -W2 10.97.0.1 >/dev/null || die "a1 -> gateway"
conf_with_prev "$hl" "$ra" | cni CHECK $BIN/circuit-bridge a1 /run/netns/a1 eth0
echo "$hl" | cni DEL $BIN/circuit-bridge a1 /run/netns/a1 eth0
[ ! -e /var/lib/cni/networks/hlnet/10.97.0.2 ] || die "host-local kept the address"
ok "circuit-bridge + host-local"

ci='{"cniVersion":"0.4.0","name":"cinet","type":"bridge","bridge":"br-ref","isGateway":true,
     "ipam":{"type":"circuit-ipam","subnet":"10.96.0.0/24","routes":[{"dst":"0.0.0.0/0"}]}}'
rb=$(echo "$ci" | cni ADD /usr/lib/cni/bridge b1 /run/netns/b1 eth0)
echo "$ci" | cni ADD /usr/lib/cni/bridge b2 /run/netns/b2 eth0 >/dev/null
assert_eq "10.96.0.2/24" "$(json_get "$rb" 'd["ips"][0]["address"]')" "circuit-ipam address via reference bridge"
ip netns exec b1 busybox ping -c1 -W2 10.96.0.3 >/dev/null || die "b1 -> b2"
ip netns exec b2 busybox ping -c1 -W2 10.96.0.1 >/dev/null || die "b2 -> gateway"
conf_with_prev "$ci" "$rb" | cni CHECK /usr/lib/cni/bridge b1 /run/netns/b1 eth0
echo "$ci" | cni DEL /usr/lib/cni/bridge b1 /run/netns/b1 eth0
echo "$ci" | cni DEL /usr/lib/cni/bridge b2 /run/netns/b2 eth0
[ -z "$(find $CIRCUIT_STATE_DIR/ipam/cinet/ips -type f)" ] || die "circuit-ipam kept addresses"
ok "reference bridge + circuit-ipam"
