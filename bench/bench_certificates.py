"""Certificate PDFs: 150 certificates of the shipped course design (decorative background,
Cyrillic text, vector QR code) rendered in-process, one after another, beside the same
fields drawn by reportlab alone on a page with no background in the same run (the
baseline: the ratio is the figure); then one ZIP of 150.

    .venv/bin/python -m bench.bench_certificates
    TROPA_DATABASE_URL=postgresql://…/tropa_test .venv/bin/python -m bench.bench_certificates
"""

import argparse
import io
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

from bench.harness import fresh_database, report
from certificates.models import TemplateKind
from certificates.rendering import (
    SAMPLE_SNAPSHOT,
    render_certificate,
    render_certificates,
    render_plain,
)
from certificates.services.templates import default_template
from webapp.extensions import db

ROUNDS = 3  # each figure is the best of three runs' medians: the machine is shared


def items(count: int) -> list[tuple[dict, str]]:
    return [
        (
            {
                **SAMPLE_SNAPSHOT,
                "holder_name": f"Участникова Анна {n:03d}",
                "serial": f"2026-{n:06d}",
            },
            f"https://tropa.example/verify/{n:026d}",
        )
        for n in range(count)
    ]


def timed(renders) -> tuple[list[float], list[bytes]]:
    """The time of each item of an iterator of PDFs, and the PDFs."""
    latencies, pdfs = [], []
    started = time.perf_counter()
    for pdf in renders:
        now = time.perf_counter()
        latencies.append(now - started)
        pdfs.append(pdf)
        started = now
    return latencies, pdfs


def zip_of(pdfs: list[bytes]) -> bytes:
    """As the bulk issue builds it: PDFs are compressed already, so stored as they are."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for number, pdf in enumerate(pdfs):
            archive.writestr(f"2026-{number:06d}.pdf", pdf)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=150)
    options = parser.parse_args()
    people = items(options.count)
    with tempfile.TemporaryDirectory(prefix="tropa-bench-") as scratch_name:
        bench = fresh_database(Path(scratch_name))
        with bench.app.app_context():
            template = default_template(TemplateKind.COURSE)
            db.session.commit()
            started = time.perf_counter()
            render_certificate(template, *people[0])  # cold: the background loaded, fonts
            cold = time.perf_counter() - started

            def best(render) -> list[float]:
                runs = [timed(render())[0] for _ in range(ROUNDS)]
                return min(runs, key=statistics.median)

            with_background = best(lambda: render_certificates(template, people))
            plain = best(lambda: (render_plain(template, *item) for item in people))
            zip_seconds, zip_bytes, pdf_sizes = [], 0, []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                pdfs = list(render_certificates(template, people))
                zip_bytes = len(zip_of(pdfs))
                zip_seconds.append(time.perf_counter() - started)
                pdf_sizes = [len(pdf) for pdf in pdfs]

    def row(label: str, latencies: list[float], baseline: list[float]) -> str:
        median = statistics.median(latencies)
        p95 = statistics.quantiles(latencies, n=20)[-1]
        return (
            f"| {label} | {len(latencies)} | {median * 1000:.1f} | {p95 * 1000:.1f} "
            f"| {median / statistics.median(baseline):.2f} |"
        )

    lines = [
        "| what | certificates | median ms | p95 ms | × baseline |",
        "| --- | ---: | ---: | ---: | ---: |",
        row("baseline: the fields by reportlab alone, no background", plain, plain),
        row("certificate: background, fields, vector QR", with_background, plain),
        "",
        f"First certificate of a template (background and fonts loaded): {cold * 1000:.0f} ms. "
        f"A PDF: {statistics.mean(pdf_sizes) / 1024:.0f} KB. "
        f"Rendering and zipping {options.count}: {min(zip_seconds):.2f} s "
        f"(best of {ROUNDS}), ZIP {zip_bytes / 1024 / 1024:.1f} MB.",
    ]
    report(
        f"Certificates · {bench.database_label}",
        f"{options.count} certificates of the shipped course design, in-process, one at a time"
        f" (best of {ROUNDS} runs)",
        lines,
    )


if __name__ == "__main__":
    main()
