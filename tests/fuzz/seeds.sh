#!/bin/sh
# seeds.sh DIR: seed corpora for the fuzz harnesses, made from what the
# repository already has (run by `make fuzz`; nothing here is committed):
#   DIR/view       each line of every .jsonl under tests/, and each file whole
#   DIR/suppress   a stack line plus rules: the suppression patterns the
#                  tests and the README use
#   DIR/watchexpr  every -w expression of the samples' .expect files and the
#                  tests, and expressions on the harness's own globals
set -eu
out=$1
mkdir -p "$out/view" "$out/suppress" "$out/watchexpr"
n=0
seed() {	# seed CORPUS: stdin becomes one seed file
	n=$((n + 1))
	cat >"$out/$1/seed-$n"
}

for f in $(find tests -name '*.jsonl'); do
	seed view <"$f"
	while IFS= read -r line; do printf '%s\n' "$line" | seed view; done <"$f"
done

grep -rhoE '(race|race_top|var|file|module):[^ "'"'"']+' README.md tests/integration tests/unit 2>/dev/null |
	sort -u | while IFS= read -r rule; do
	printf 'counter|update_foo|read_foo|samples/basic/race_rw.c\n%s\n# comment\n\n' "$rule" | seed suppress
done
printf 'x|f|g\nrace:f*\nvar:x\nfile:*.c\nrace_top:g\n' | seed suppress

{
	grep -rhoE -- '-w [^ ]+' samples tests/integration 2>/dev/null | sed 's/^-w //'
	printf '%s\n' fz_outer 'fz_outer[1].in[2].a[3]' fz_outer.v 'fz_matrix[2][4]' fz_single.big \
		'fz_static_holder::fz_counter' fz_tls '0x1000:8' 'fz_outer[1].p' fz_outr
} | sort -u | while IFS= read -r w; do printf '%s' "$w" | seed watchexpr; done
echo "seeds: $(ls "$out/view" | wc -l) view, $(ls "$out/suppress" | wc -l) suppress, $(ls "$out/watchexpr" | wc -l) watchexpr"
