"""Benchmark the enterprise list import and the invitation sheet. Run by hand:

    .venv/bin/python bench/bench_import.py [--rows 20000]

A list of ``--rows`` enterprises (.xlsx, the columns of the README plus two qualifier
columns) spread over Henan's 28 regions, with counties, one or two of the shipped
plan's industries typed as an office types them (``铸造``, ``平板玻璃``, ``家具``), contacts
and phones (mobiles and landlines), and 1% of rows with a mistake (a bad check
character, a phone too short). Each stage runs in a fresh process (``python -c``) on a
real SQLite file with the project's pragmas, and reports its wall time and the
process's peak RSS (``VmHWM``, the whole interpreter included):

1. validate: ``lvdong import --dry-run`` (read the file, check every row, write the
   copy with the 问题 column) — target ≤ 30 s, ≤ 300 MB;
2. import into an empty database (one transaction; an invitation code per
   enterprise) — target ≤ 30 s, ≤ 300 MB;
3. re-import of the same file (nothing changes) — same targets;
4. the invitation sheet: ``lvdong invites --out`` (the .xlsx and a zip of 20,000 QR
   PNGs) — target ≤ 60 s;
5. the event loop while ``/import`` works: the bot's way (``run_import`` in a worker
   thread on a write connection of its own, ``in_writer``) on a fresh database, while
   the loop ticks every 10 ms and writes a row every 100 ms on its own connection (as
   the bot records users and dialog steps): the ticks' delay and the writes' time, idle
   and during the import.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {"validate": (30, 300), "import": (30, 300), "re-import": (30, 300),
           "invitations": (60, None)}


def make_list(path: Path, rows: int, seed: int = 7) -> int:
    """Write the list; returns the number of rows with a mistake."""
    import openpyxl

    from knowledge.loader import load_kb
    from storage.credit_code import check_character, org_check_character
    from storage.regions import COUNTIES, DIVISION_PREFIXES, REGIONS

    rng = random.Random(seed)
    kb = load_kb()
    industries = [c.name for c in kb.industry_choices]
    qualifiers = [q.name for q in kb.qualifiers[:2]]
    division_of = {region: prefix.ljust(6, "0") for prefix, region in
                   sorted(DIVISION_PREFIXES.items(), key=lambda kv: -len(kv[0]))}
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("企业名录")
    sheet.append(["企业名称", "统一社会信用代码", "地市", "区县", "行业", "联系人", "联系电话",
                  *qualifiers])
    bad = 0
    for n in range(rows):
        region = REGIONS[n % len(REGIONS)]
        body = f"{n + 1:08d}"
        first17 = "91" + division_of[region] + body + org_check_character(body)
        code = first17 + check_character(first17)
        phone = f"13{rng.randrange(10**9):09d}" if n % 3 else f"0371-6{rng.randrange(10**6):06d}"
        if n % 100 == 99:
            bad += 1
            if n % 200 == 199:
                code = code[:-1] + ("0" if code[-1] != "0" else "1")
            else:
                phone = "12345"
        counties = COUNTIES.get(region, ())
        county = counties[n % len(counties)] if counties else ""
        chosen = "、".join(rng.sample(industries, rng.choice((1, 1, 2))))
        sheet.append([f"{region[:2]}测试企业{n:05d}有限公司", code, region, county, chosen,
                      f"联系人{n % 97}", phone, rng.choice(("是", "否", "")),
                      rng.choice(("是", "否", ""))])
    book.save(path)
    return bad


STAGE = """
import resource, sys, time
sys.path.insert(0, {root!r})
from bot.cli import main
start = time.perf_counter()
code = main({argv!r})
seconds = time.perf_counter() - start
peak = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        peak = int(line.split()[1]) // 1024
print("BENCH", seconds, peak, code, file=sys.stderr)
"""


def stage(name: str, argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    script = STAGE.format(root=str(ROOT), argv=argv)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=3600)
    line = next((ln for ln in done.stderr.splitlines() if ln.startswith("BENCH")), None)
    if line is None:
        raise SystemExit(f"{name} failed:\n{done.stdout}\n{done.stderr}")
    _, seconds, peak, code = line.split()
    for line in done.stdout.strip().splitlines()[-2:]:
        print(f"  {name} (exit {code}): {line[:140]}")
    return float(seconds), int(peak)


LOOP = """
import asyncio, datetime as dt, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from handlers.staff.importing import run_import
from knowledge.loader import load_kb
from storage.db import open_db
from storage.enterprise_invites import load_key
from storage.users import PROVINCE

path, source = Path({db!r}), Path({source!r})
data, kb = source.read_bytes(), load_kb()
main_db = open_db(path)
main_db.execute("CREATE TABLE IF NOT EXISTS bench_ticks (at REAL)")

def work():
    db = open_db(path)
    try:
        return run_import(db, data, source.name, kb=kb, scope=PROVINCE, actor_id=0,
                          now=dt.datetime.now(dt.UTC), key=load_key(path),
                          valid_for=dt.timedelta(days=90))
    finally:
        db.conn.close()

async def watch(until):
    delays, writes = [], []
    tick = 0
    while not until():
        start = time.perf_counter()
        await asyncio.sleep(0.01)
        delays.append(time.perf_counter() - start - 0.01)
        tick += 1
        if tick % 10 == 0:
            began = time.perf_counter()
            try:
                with main_db.conn:
                    main_db.conn.execute("INSERT INTO bench_ticks VALUES (?)", (began,))
                writes.append(time.perf_counter() - began)
            except Exception as exc:
                writes.append(float("inf"))
    return delays, writes

def summary(name, delays, writes):
    delays.sort(); ok = sorted(w for w in writes if w != float("inf"))
    failed = len(writes) - len(ok)
    q = lambda xs, f: xs[min(len(xs) - 1, int(f * len(xs)))] * 1000 if xs else float("nan")
    print(f"LOOP {{name}}: tick delay p50 {{q(delays, .5):.1f}} ms, p99 {{q(delays, .99):.1f}} ms, "
          f"max {{delays[-1] * 1000:.0f}} ms; main-connection writes p50 {{q(ok, .5):.1f}} ms, "
          f"max {{(ok[-1] * 1000 if ok else 0):.0f}} ms, failed {{failed}} of {{len(writes)}}")

async def main():
    t0 = time.perf_counter()
    summary("idle", *await watch(lambda: time.perf_counter() - t0 > 5))
    task = asyncio.create_task(asyncio.to_thread(work))
    summary("during /import", *await watch(task.done))
    outcome = await task
    print("LOOP import:", outcome.summary(source.name).splitlines()[-1], outcome.seconds)

asyncio.run(main())
"""


def loop_stage(folder: Path, source: Path) -> None:
    script = LOOP.format(root=str(ROOT), db=str(folder / "loop.sqlite"), source=str(source))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=3600)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("LOOP")]
    if not lines:
        raise SystemExit(f"the event-loop stage failed:\n{done.stdout}\n{done.stderr}")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        source = folder / "名单.xlsx"
        started = time.perf_counter()
        bad = make_list(source, args.rows)
        print(f"list: {args.rows:,} rows ({bad} with a mistake), "
              f"{source.stat().st_size / 1e6:.1f} MB, made in "
              f"{time.perf_counter() - started:.1f} s; cpus {os.cpu_count()}, "
              f"load {os.getloadavg()[0]:.1f}")
        env = {**os.environ, "LVDONG_DB": str(folder / "lvdong.sqlite")}
        env.pop("TELEGRAM_BOT_TOKEN", None)
        results = {
            "validate": stage("validate", ["import", str(source), "--dry-run"], env),
            "import": stage("import", ["import", str(source)], env),
            "re-import": stage("re-import", ["import", str(source)], env),
            "invitations": stage("invitations", ["invites", "--out", str(folder / "邀请.xlsx"),
                                                 "--bot-username", "lvdong_bot"], env),
        }
        print(f"\n| stage ({args.rows:,} rows) | time | peak RSS | target |")
        print("|---|---|---|---|")
        for name, (seconds, peak) in results.items():
            limit_s, limit_mb = TARGETS[name]
            target = f"≤ {limit_s} s" + (f", ≤ {limit_mb} MB" if limit_mb else "")
            print(f"| {name} | {seconds:.1f} s | {peak} MB | {target} |")
        print()
        loop_stage(folder, source)


if __name__ == "__main__":
    main()
