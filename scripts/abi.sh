#!/bin/sh
# The public ABI is exactly the functions include/aname.h declares ANAME_API.
#   scripts/abi.sh map HEADER            print the linker version script
#   scripts/abi.sh check SHLIB HEADER    fail unless SHLIB exports exactly
#                                        those functions (no aname__*, no
#                                        other symbol, none missing) and
#                                        needs no static TLS, which
#                                        dlopen() can refuse
set -eu
public_names() {
	grep -o 'ANAME_API[^(;]*[ *]aname_[a-z0-9_]*(' "$1" |
		sed 's/.*[ *]\(aname_[a-z0-9_]*\)($/\1/' | sort -u
}
case "${1:-}" in
map)
	printf 'ANAME_0 {\n\tglobal:\n'
	public_names "$2" | sed 's/^/\t\t/; s/$/;/'
	printf '\tlocal: *;\n};\n'
	;;
check)
	want=$(public_names "$3")
	have=$(nm -D --defined-only "$2" | awk '$2 != "A" {print $3}' | sed 's/@.*//' | sort -u)
	extra=$(printf '%s\n' "$have" | grep -vxF "$want" || true)
	missing=$(printf '%s\n' "$want" | grep -vxF "$have" || true)
	if [ -n "$extra" ] || [ -n "$missing" ]; then
		[ -z "$extra" ] || echo "check-abi: FAILED, exported but not public: $extra"
		[ -z "$missing" ] || echo "check-abi: FAILED, public but not exported: $missing"
		exit 1
	fi
	if readelf -d "$2" | grep -q 'FLAGS.*STATIC_TLS'; then
		echo "check-abi: FAILED, $2 uses initial-exec TLS (DF_STATIC_TLS): dlopen() of it can fail"
		exit 1
	fi
	echo "check-abi: ok, $(printf '%s\n' "$want" | wc -l) aname_* functions exported, nothing else"
	;;
*)
	echo "usage: $0 map HEADER | check SHLIB HEADER" >&2
	exit 64
	;;
esac
