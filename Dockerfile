# The gateway's image: `gateway serve` by default; the same image runs `gateway worker`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GATEWAY_DATA_DIR=/data \
    OMP_NUM_THREADS=1

# libzbar0: the second barcode reader (pyzbar loads the system library); Pango and a CJK
# font: the PDF report (WeasyPrint).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libzbar0 \
       libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei fonts-symbola \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Pinned, hashed dependencies first (cached layer); the local index lines of the development
# machine are dropped, PyPI serves the same pins.
COPY requirements.txt ./
RUN grep -v '^--' requirements.txt > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY workers ./workers
COPY samples ./samples
RUN pip install --no-deps .

# Never run as root; the data folder (SQLite, blobs, outbox files) belongs to the app user.
RUN useradd --system --uid 10001 --home-dir /app gateway \
    && mkdir -p /data && chown gateway:gateway /data
USER gateway
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"

ENTRYPOINT ["gateway"]
CMD ["serve", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "2"]
