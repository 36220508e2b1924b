# The harness itself: we are in a private netns with only lo.
n=$(ip -o link show | wc -l)
assert_eq 1 "$n" "links in test namespace"
mkns a
ip -n a link show lo >/dev/null
ok "private namespace"
