"""``madoguchi faq ...`` through ``bot.cli.main`` with the project's real ranker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from bot.cli import main
from bot.knowledge.faq import live_base

CSV = (
    "番号,質問,回答,分類,言い換え,担当課,URL,確認日\n"
    'F0001,住民票の写しはどこで取れますか,"市民課の窓口で取れます。\n本人確認書類を持ってきてください。",'
    '届出・証明,"住民票がほしい\n住民票の発行",市民課,https://www.city-sample.example/juminhyo,2025/4/1\n'
    "F0002,粗大ごみの出し方を教えてください,事前の申込みが必要です。,ごみ,大きいごみを捨てたい,環境課,,2025-04-01\n"
    "F0003,児童手当の申請方法,子どもが生まれたら15日以内に申請してください。,子育て,,こども家庭課,,\n"
)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points the default paths (var/, data/) at a temporary home."""
    monkeypatch.setenv("MADOGUCHI_HOME", str(tmp_path))
    monkeypatch.delenv("MADOGUCHI_VAR", raising=False)
    monkeypatch.delenv("MADOGUCHI_DATA", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    return tmp_path


@pytest.fixture
def staff_csv(tmp_path: Path) -> Path:
    path = tmp_path / "staff.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_import_without_kb_updates_the_running_bots_base(env: Path, staff_csv: Path, capsys) -> None:
    assert main(["faq", "import", str(staff_csv)]) == 0
    assert "3 件" in capsys.readouterr().out
    snapshot = live_base.load_current(env / "var" / "faq")
    assert snapshot.get("F0001").paraphrases == ("住民票がほしい", "住民票の発行")
    assert snapshot.get("F0001").verified_on == "2025-04-01"


def test_failed_import_exits_1_names_rows_and_changes_nothing(
    env: Path, staff_csv: Path, tmp_path: Path, capsys
):
    kb = tmp_path / "kb"
    assert main(["faq", "import", str(staff_csv), "--kb", str(kb)]) == 0
    before = (kb / os.readlink(kb / "current") / "entries.json").read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV + "F0002,,回答,,,,ftp://x,2025-02-30\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["faq", "import", str(bad), "--kb", str(kb)]) == 1
    err = capsys.readouterr().err
    assert "5行目 質問" in err and "5行目 URL" in err and "5行目 確認日" in err
    assert "5行目 番号: 番号 F0002 が重複しています（3行目と同じ）" in err
    assert (kb / os.readlink(kb / "current") / "entries.json").read_bytes() == before


def test_undecodable_file_exits_1(env: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"id,question,answer\n\x81\x20,x,y\n")
    assert main(["faq", "import", str(bad), "--kb", str(tmp_path / "kb")]) == 1
    assert "2 行目" in capsys.readouterr().err
    assert live_base.current_version(tmp_path / "kb") is None


def test_dry_run_does_not_publish(env: Path, staff_csv: Path, tmp_path: Path) -> None:
    assert main(["faq", "import", str(staff_csv), "--kb", str(tmp_path / "kb"), "--dry-run"]) == 0
    assert live_base.current_version(tmp_path / "kb") is None


@pytest.mark.parametrize("name", ["out.csv", "out.xlsx"])
def test_export_edit_import_round_trip(env: Path, staff_csv: Path, tmp_path: Path, name: str) -> None:
    kb = tmp_path / "kb"
    assert main(["faq", "import", str(staff_csv), "--kb", str(kb)]) == 0
    out = tmp_path / name
    assert main(["faq", "export", str(out), "--kb", str(kb)]) == 0
    if name.endswith(".xlsx"):  # staff edit in Excel
        workbook = openpyxl.load_workbook(out)
        sheet = workbook["FAQ"]
        sheet.cell(row=4, column=3, value="出生後15日以内に、こども家庭課へ申請してください。")
        workbook.save(out)
    else:
        text = out.read_text(encoding="utf-8-sig").replace("子どもが生まれたら", "出生後")
        out.write_text(text, encoding="utf-8-sig")
    assert main(["faq", "import", str(out), "--kb", str(kb)]) == 0
    snapshot = live_base.load_current(kb)
    assert snapshot.get("F0003").answer.startswith("出生後15日以内")
    assert snapshot.get("F0001").answer == "市民課の窓口で取れます。\n本人確認書類を持ってきてください。"


def test_export_is_byte_stable_through_csv_round_trip(env: Path, staff_csv: Path, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    main(["faq", "import", str(staff_csv), "--kb", str(kb)])
    first, second = tmp_path / "1.csv", tmp_path / "2.csv"
    assert main(["faq", "export", str(first), "--kb", str(kb)]) == 0
    assert main(["faq", "import", str(first), "--kb", str(kb)]) == 0
    assert main(["faq", "export", str(second), "--kb", str(kb)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().startswith(b"\xef\xbb\xbf")


def test_export_japanese_headers_and_cp932(env: Path, staff_csv: Path, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    main(["faq", "import", str(staff_csv), "--kb", str(kb)])
    out = tmp_path / "sjis.csv"
    assert main(["faq", "export", str(out), "--kb", str(kb), "--headers", "ja", "--encoding", "cp932"]) == 0
    assert out.read_bytes().decode("cp932").startswith("番号,質問,回答")
    assert main(["faq", "import", str(out), "--kb", str(kb)]) == 0


def test_search_shows_ranked_entries_with_scores(env: Path, staff_csv: Path, tmp_path: Path, capsys) -> None:
    kb = tmp_path / "kb"
    main(["faq", "import", str(staff_csv), "--kb", str(kb)])
    capsys.readouterr()
    assert main(["faq", "search", "住民票を取りたい", "--kb", str(kb), "--top", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "# 住民票を取りたい"
    assert lines[1].split(": ")[1] in ("confident", "close", "none")
    assert 1 <= len(lines[2:]) <= 2 and lines[2].split()[:2] == ["1", "F0001"]
    float(lines[2].split()[2])


def test_search_explain(env: Path, staff_csv: Path, tmp_path: Path, capsys) -> None:
    kb = tmp_path / "kb"
    main(["faq", "import", str(staff_csv), "--kb", str(kb)])
    capsys.readouterr()
    assert main(["faq", "search", "住民票を取りたい", "--kb", str(kb), "--explain", "F0001", "--json"]) == 0
    details = json.loads(capsys.readouterr().out)
    assert details["faq_id"] == "F0001" and details["score"] > 0
    assert main(["faq", "search", "住民票", "--kb", str(kb), "--explain", "F9999"]) == 1


def test_batch_search_prints_one_json_line_per_query(
    env: Path, staff_csv: Path, tmp_path: Path, capsys
) -> None:
    kb = tmp_path / "kb"
    main(["faq", "import", str(staff_csv), "--kb", str(kb)])
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": "q1", "text": "粗大ごみを出したい"}\n\n'
        '{"id": 2, "text": "児童手当の申請"}\n{"id": "q3", "text": "🙂"}\n',
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["faq", "search", "--queries", str(queries), "--json", "--kb", str(kb), "--top", "3"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["query_id"] for o in out] == ["q1", 2, "q3"]
    assert out[0]["results"][0]["id"] == "F0002" and out[1]["results"][0]["id"] == "F0003"
    assert all(isinstance(r["score"], float) for o in out for r in o["results"])
    assert out[2]["results"] == []
    scores = [r["score"] for r in out[0]["results"]]
    assert scores == sorted(scores, reverse=True)


def test_batch_search_reports_bad_line(env: Path, staff_csv: Path, tmp_path: Path, capsys) -> None:
    kb = tmp_path / "kb"
    main(["faq", "import", str(staff_csv), "--kb", str(kb)])
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": 1, "text": "a"}\n{"id": 2}\n', encoding="utf-8")
    assert main(["faq", "search", "--queries", str(queries), "--json", "--kb", str(kb)]) == 1
    assert "q.jsonl:2" in capsys.readouterr().err


def test_search_without_base_and_bad_arguments(env: Path, tmp_path: Path) -> None:
    assert main(["faq", "search", "住民票", "--kb", str(tmp_path / "none")]) == 1
    assert main(["faq", "search", "--kb", str(tmp_path / "none")]) == 2


def test_status_and_ensure(env: Path, staff_csv: Path, capsys) -> None:
    seed_dir = env / "data" / "faq"
    seed_dir.mkdir(parents=True)
    (seed_dir / "sample_faq.csv").write_text(CSV, encoding="utf-8")
    assert main(["faq", "status"]) == 1
    assert main(["faq", "ensure"]) == 0
    version = live_base.current_version(env / "var" / "faq")
    assert version
    assert main(["faq", "ensure"]) == 0 and live_base.current_version(env / "var" / "faq") == version
    capsys.readouterr()
    assert main(["faq", "status"]) == 0
    out = capsys.readouterr().out
    assert (
        version in out
        and "件数:       3 件" in out
        and "JST" in out
        and "UTC" not in out
        and "+00:00" not in out
    )


def test_unknown_department_is_an_error_against_departments_yml(env: Path, tmp_path: Path, capsys) -> None:
    (env / "data").mkdir()
    (env / "data" / "departments.yml").write_text(
        "departments:\n  - id: shimin\n    name: 市民課\n", encoding="utf-8"
    )
    table = tmp_path / "t.csv"
    table.write_text("id,question,answer,department\nF1,q,a,市民課\nF2,q2,a2,宇宙課\n", encoding="utf-8")
    assert main(["faq", "import", str(table), "--kb", str(tmp_path / "kb")]) == 1
    err = capsys.readouterr().err
    assert "3行目 担当課" in err and "宇宙課" in err and "市民課」" not in err
    assert live_base.current_version(tmp_path / "kb") is None


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_running_reader_sees_an_import_from_another_process(staff_csv: Path, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    assert _cli("faq", "import", str(staff_csv), "--kb", str(kb)).returncode == 0
    live = live_base.LiveFaq(kb, check_interval=2.0)
    held = live.snapshot()  # a conversation in progress
    changed = tmp_path / "changed.csv"
    changed.write_text(
        CSV.replace("事前の申込みが必要です。", "電話で申し込んでください。"), encoding="utf-8"
    )
    assert _cli("faq", "import", str(changed), "--kb", str(kb)).returncode == 0
    imported_at = time.monotonic()
    while live.snapshot().get("F0002").answer != "電話で申し込んでください。":
        assert time.monotonic() - imported_at < 10, "not reloaded within 10 s"
        time.sleep(0.1)
    assert time.monotonic() - imported_at <= 2.0 + 1.0  # check interval + load time
    assert held.get("F0002").answer == "事前の申込みが必要です。"


def test_two_imports_at_once_do_not_interleave(staff_csv: Path, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    other = tmp_path / "other.csv"
    other.write_text(CSV.replace("F000", "G000"), encoding="utf-8")
    cmd = [sys.executable, "-m", "bot.cli", "faq", "import"]
    procs = [
        subprocess.Popen(
            [*cmd, str(path), "--kb", str(kb)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for path in (staff_csv, other)
    ]
    codes = [p.wait(timeout=120) for p in procs]
    # each import publishes only over the version its diff was computed against: the later one either
    # ran after the first finished, or stops with "changed meanwhile" rather than replace it unseen
    assert sorted(codes) in ([0, 0], [0, 1])
    assert len(live_base.list_versions(kb)) == codes.count(0)
    for proc, code in zip(procs, codes, strict=True):
        if code:
            assert "更新されました" in proc.stderr.read().decode()
    ids = set(live_base.load_current(kb).entries)
    assert ids in ({"F0001", "F0002", "F0003"}, {"G0001", "G0002", "G0003"})


def test_rollback_command(staff_csv: Path, tmp_path: Path, capsys) -> None:
    kb = tmp_path / "kb"
    assert main(["faq", "import", str(staff_csv), "--kb", str(kb)]) == 0
    first = live_base.current_version(kb)
    changed = tmp_path / "changed.csv"
    changed.write_text(CSV.replace("事前の申込みが必要です。", "変更後"), encoding="utf-8")
    assert main(["faq", "import", str(changed), "--kb", str(kb)]) == 0
    assert main(["faq", "rollback", first, "--kb", str(kb)]) == 0
    assert live_base.load_current(kb).get("F0002").answer == "事前の申込みが必要です。"
    assert main(["faq", "rollback", "nope", "--kb", str(kb)]) == 1


def test_import_says_when_the_ranking_has_no_word_vectors(
    env: Path, staff_csv: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    from bot.wordvec import table

    monkeypatch.setattr(table, "_loaded", {})
    assert main(["faq", "import", str(staff_csv), "--kb", str(tmp_path / "kb")]) == 0
    assert "make wordvec" not in capsys.readouterr().err  # the table of `make wordvec` is there
    monkeypatch.setenv("MADOGUCHI_WORDVEC", str(tmp_path / "missing.npz"))
    assert main(["faq", "import", str(staff_csv), "--kb", str(tmp_path / "kb2")]) == 0
    captured = capsys.readouterr()
    assert "make wordvec" in captured.err and "3 件" in captured.out


def _rows(n: int) -> str:
    return "".join(f"F{i:04d},質問その{i},回答{i},,,,,\n" for i in range(1, n + 1))


def test_import_shows_the_diff_and_many_removals_need_yes(tmp_path: Path, capsys) -> None:
    kb = tmp_path / "kb"
    full, cut = tmp_path / "full.csv", tmp_path / "cut.csv"
    full.write_text(
        "id,question,answer,category,paraphrases,department,url,verified_on\n" + _rows(10), "utf-8"
    )
    cut.write_text(
        "id,question,answer,category,paraphrases,department,url,verified_on\n"
        + _rows(5).replace("回答2,", "回答2を直しました,")
        + "F0099,新しい質問,新しい回答,,,,,\n",
        "utf-8",
    )
    assert main(["faq", "import", str(full), "--kb", str(kb)]) == 0
    first = live_base.current_version(kb)
    capsys.readouterr()
    assert main(["faq", "import", str(cut), "--kb", str(kb)]) == 1  # 5 disappear: more than a few
    captured = capsys.readouterr()
    assert "追加 1 件・変更 1 件・削除 5 件（変更なし 4 件）" in captured.out
    assert "変更: F0002（回答）" in captured.out and "削除: F0006, F0007, F0008, F0009, F0010" in captured.out
    assert "--yes" in captured.err and live_base.current_version(kb) == first
    assert main(["faq", "import", str(cut), "--kb", str(kb), "--dry-run"]) == 0
    assert live_base.current_version(kb) == first
    assert main(["faq", "import", str(cut), "--kb", str(kb), "--yes"]) == 0
    assert set(live_base.load_current(kb).entries) == {"F0001", "F0002", "F0003", "F0004", "F0005", "F0099"}


def test_a_few_removals_publish_without_asking(tmp_path: Path, capsys) -> None:
    kb = tmp_path / "kb"
    header = "id,question,answer,category,paraphrases,department,url,verified_on\n"
    (tmp_path / "a.csv").write_text(header + _rows(10), "utf-8")
    (tmp_path / "b.csv").write_text(header + _rows(7), "utf-8")
    assert main(["faq", "import", str(tmp_path / "a.csv"), "--kb", str(kb)]) == 0
    assert main(["faq", "import", str(tmp_path / "b.csv"), "--kb", str(kb)]) == 0
    assert len(live_base.load_current(kb).entries) == 7
