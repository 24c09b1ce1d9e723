"""The GCS lake on fake-gcs-server (which enforces generation preconditions, HTTP 412)."""

import json

import pytest
from dagster_gcp import GCSResource
from google.api_core.exceptions import PreconditionFailed

from nba_backfill.resources.environment import build_resources, local_resources
from nba_backfill.resources.gcs_lake import GcsLake, LakeConflictError
from nba_backfill_tests.prod.probe_assets import PROBE_ASSETS, probe_game_logs
from nba_backfill_tests.prod.runs import run

KEY = "nba-com/team-boxscore/2023-11-01/0022300100.json"


def _lake(target, prefix: str = "") -> GcsLake:
    return GcsLake(bucket=target.bucket, prefix=prefix, gcs=GCSResource(project=target.project))


def test_emulator_enforces_generation_preconditions(prod_target):
    blob = prod_target.storage().bucket(prod_target.bucket).blob("probe.json")
    blob.upload_from_string(b"{}", if_generation_match=0)
    with pytest.raises(PreconditionFailed):
        blob.upload_from_string(b"[]", if_generation_match=0)


def test_write_read_list_delete(prod_target):
    lake = _lake(prod_target)
    assert lake.write_json(KEY, {"a": 1}) == len(b'{"a":1}')
    assert lake.read_json(KEY) == {"a": 1}
    assert lake.exists(KEY)
    assert lake.list_keys("nba-com/team-boxscore/") == [KEY]
    assert lake.list_keys("nba-com/other/") == []
    lake.delete(KEY)
    lake.delete(KEY)  # absent is fine
    assert not lake.exists(KEY)
    with pytest.raises(FileNotFoundError, match=f"gs://{prod_target.bucket}/{KEY}"):
        lake.read_bytes(KEY)
    with pytest.raises(ValueError, match="bad lake key"):
        lake.write_json("../escape.json", {})


def test_new_objects_are_created_only_if_absent_and_overwrites_name_the_generation(prod_target):
    lake = _lake(prod_target)
    lake.write_json(KEY, {"v": 1})
    first, _ = lake.current_generation(KEY)
    lake.write_json(KEY, {"v": 1})  # identical: no new generation
    assert lake.current_generation(KEY)[0] == first
    lake.write_json(KEY, {"v": 2})
    second, _ = lake.current_generation(KEY)
    assert second != first and lake.read_json(KEY) == {"v": 2}


def test_concurrent_writer_race_gets_412_and_is_retried(prod_target, monkeypatch):
    """Another writer replaces the object between our generation read and our upload: our
    conditional upload gets 412, we re-read the generation and land our complete object."""
    ours, theirs = _lake(prod_target), _lake(prod_target)
    ours.write_json(KEY, {"v": "old"})
    real = GcsLake.current_generation
    calls: list[int] = []

    def racing(self, key):
        seen = real(self, key)
        if self is not ours:
            return seen
        calls.append(seen[0])
        if len(calls) == 1:  # the other writer lands right after we looked
            theirs.write_json(key, {"v": "theirs"})
        return seen

    monkeypatch.setattr(GcsLake, "current_generation", racing)
    ours.write_json(KEY, {"v": "ours"})
    monkeypatch.undo()
    assert len(calls) == 2 and calls[1] != calls[0], calls  # second try used the new generation
    assert ours.read_json(KEY) == {"v": "ours"}


def test_a_writer_that_always_loses_the_race_fails_clearly(prod_target, monkeypatch):
    ours, theirs = _lake(prod_target), _lake(prod_target)
    ours.write_json(KEY, {"v": "old"})
    real = GcsLake.current_generation
    counter = iter(range(100))

    def always_racing(self, key):
        seen = real(self, key)
        if self is not ours:
            return seen
        theirs.write_json(key, {"v": f"theirs-{next(counter)}"})
        return seen

    monkeypatch.setattr(GcsLake, "current_generation", always_racing)
    with pytest.raises(LakeConflictError, match=r"412 Precondition Failed") as err:
        ours.write_json(KEY, {"v": "ours"})
    monkeypatch.undo()
    assert f"gs://{prod_target.bucket}/{KEY}" in str(err.value)
    assert ours.read_json(KEY)["v"].startswith("theirs-")  # a whole object, never a mix


def test_replace_prefix_is_idempotent_and_drops_stale_objects(prod_target):
    lake = _lake(prod_target, prefix="landing")
    day = "nba-com/player-boxscores/2023-11-01/"
    lake.replace_prefix(day, {day + "a.json": [1], day + "b.json": [2]})
    lake.replace_prefix(day, {day + "a.json": [1], day + "c.json": [3]})
    assert lake.list_keys(day) == [day + "a.json", day + "c.json"]
    names = sorted(b.name for b in prod_target.storage().list_blobs(prod_target.bucket))
    assert names == ["landing/" + day + "a.json", "landing/" + day + "c.json"]


def test_same_layout_and_bytes_as_the_local_lake(prod_target, tmp_path):
    prod = build_resources("prod")
    local = local_resources(tmp_path / "local")
    for resources in (prod, local):
        run([probe_game_logs], resources, partition_key="2023-11-01")
    gcs_lake, local_lake = _lake(prod_target), local["lake"]
    keys = local_lake.list_keys("probe/")
    assert len(keys) == 13  # 13 games on 2023-11-01
    assert gcs_lake.list_keys("probe/") == keys
    for key in keys:
        assert gcs_lake.read_bytes(key) == local_lake.read_bytes(key)
        assert json.loads(gcs_lake.read_bytes(key))[0]["GAME_DATE"] == "2023-11-01"
    # re-landing the date changes nothing (identical objects keep their generation)
    generations = {k: gcs_lake.current_generation(k)[0] for k in keys}
    run(PROBE_ASSETS[:1], prod, partition_key="2023-11-01")
    assert {k: gcs_lake.current_generation(k)[0] for k in keys} == generations
