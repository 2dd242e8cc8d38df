# hpsearch make-data: both data sets in the seed's format, byte-identical for a seed, a rerun
# replacing its own output, and user mistakes refused with exit code 2 before anything is written.
source "$(dirname "$0")/lib.sh"

"$HPSEARCH" make-data balls --out "$WORK/balls" --count 50 --seed 1 2> "$WORK/make.log" || { cat "$WORK/make.log"; fail "make-data balls"; }
grep -q "wrote 50 balls samples" "$WORK/make.log" || fail "no report: $(cat "$WORK/make.log")"
"$HPSEARCH" make-data balls-seq --out "$WORK/seq" --count 30 --seed 1 2> /dev/null || fail "make-data balls-seq"
[ "$(ls "$WORK/balls" | grep -c '^img_[0-9]\{5\}\.jpg$')" = 50 ] || fail "expected 50 images"
[ "$(ls "$WORK/balls" | grep -c '^p_bb_[0-9]\{5\}\.npy$')" = 50 ] || fail "expected 50 label files"
[ "$(ls "$WORK/seq" | grep -c '^seq_bb_[0-9]\{5\}\.npy$')" = 30 ] || fail "expected 30 sequences"
[ "$(ls "$WORK/seq" | grep -c '^p_[0-9]\{5\}\.npy$')" = 30 ] || fail "expected 30 presence files"

# The files as NumPy and a JPEG reader see them: .npy headers, shapes, values; JPEG 100x100 RGB.
python3 - "$WORK/balls" "$WORK/seq" <<'PY' || fail "the files are not in the seed's format"
import ast, struct, sys
def npy(path):
    b = open(path, 'rb').read()
    assert b[:6] == b'\x93NUMPY', path
    n = struct.unpack('<H', b[8:10])[0]
    h = ast.literal_eval(b[10:10 + n].decode())
    assert h['descr'] == '<f4' and not h['fortran_order'], h
    data = b[10 + n:]
    count = 1
    for d in h['shape']:
        count *= d
    assert len(data) == 4 * count, path
    return h['shape'], struct.unpack('<%df' % count, data)
def jpeg_size(path):
    b = open(path, 'rb').read()
    assert b[:2] == b'\xff\xd8', path
    i = 2
    while i < len(b):
        marker, length = b[i + 1], struct.unpack('>H', b[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):  # start of frame: height, width, components
            return struct.unpack('>HHB', b[i + 5:i + 10])
        i += 2 + length
balls, seq = sys.argv[1], sys.argv[2]
for k in range(50):
    assert jpeg_size('%s/img_%05d.jpg' % (balls, k)) == (100, 100, 3)
    shape, v = npy('%s/p_bb_%05d.npy' % (balls, k))
    assert shape == (9, 5)
    rows = [v[5 * r:5 * r + 5] for r in range(9)]
    assert sum(r[0] for r in rows) == 3, rows
    for r in rows:
        if r[0]:
            x1, y1, x2, y2 = r[1:]
            assert 0 <= x1 < x2 <= 99 and 0 <= y1 < y2 <= 99 and 9 <= x2 - x1 <= 12, r
        else:
            assert r == (0, 0, 0, 0, 0), r
for k in range(30):
    shape, p = npy('%s/p_%05d.npy' % (seq, k))
    assert shape == (9,) and sum(p) == 3 and set(p) == {0, 1}
    shape, boxes = npy('%s/seq_bb_%05d.npy' % (seq, k))
    assert shape == (20, 9, 4)
    assert max(boxes) <= 99 and min(boxes) >= 0
PY

# Same seed, same bytes; another seed, other data. A rerun into its own folder replaces its files.
"$HPSEARCH" make-data balls --out "$WORK/again" --count 50 --seed 1 --threads 1 2> /dev/null
diff -r -q -x .hpsearch-make-data "$WORK/balls" "$WORK/again" > /dev/null || fail "same seed gave different files"
"$HPSEARCH" make-data balls --out "$WORK/again" --count 20 --seed 2 2> /dev/null || fail "rerun into a make-data folder refused"
[ "$(ls "$WORK/again" | wc -l)" = 40 ] || fail "rerun left old files: $(ls "$WORK/again" | wc -l) files"
cmp -s "$WORK/balls/img_00000.jpg" "$WORK/again/img_00000.jpg" && fail "another seed gave the same image"

expect_user_error() {  # expect_user_error "message part" make-data-args...
  local expected=$1
  shift
  set +e
  "$HPSEARCH" make-data "$@" > "$WORK/out.txt" 2>&1
  local code=$?
  set -e
  [ "$code" = 2 ] || { cat "$WORK/out.txt"; fail "exit code $code, expected 2 for: make-data $*"; }
  grep -qF -- "$expected" "$WORK/out.txt" || { cat "$WORK/out.txt"; fail "message lacks '$expected'"; }
}
expect_user_error "unknown data set 'cubes'; use balls or balls-seq" cubes --out "$WORK/x"
expect_user_error "--out DIR is required" balls --count 5
expect_user_error "make-data --count abc: expected an integer" balls --out "$WORK/x" --count abc
expect_user_error "make-data --count 0: expected an integer" balls --out "$WORK/x" --count 0
expect_user_error "make-data: unknown option --cuont" balls --out "$WORK/x" --cuont 5
expect_user_error "make-data --seed: missing value" balls --out "$WORK/x" --seed
[ ! -e "$WORK/x" ] || fail "a refused make-data created its folder"
mkdir "$WORK/mine" && echo "precious notes" > "$WORK/mine/notes.txt"
expect_user_error "$WORK/mine: --out is a non-empty folder that make-data did not write" balls --out "$WORK/mine" --count 5
[ "$(ls "$WORK/mine")" = notes.txt ] || fail "make-data wrote into a foreign folder"
echo "make-data: ok"
