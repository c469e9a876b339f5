FROM python:3.12-slim

# Fonts that render Chinese (charts and certificates draw text with them).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk fontconfig \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY bot ./bot
COPY handlers ./handlers
COPY services ./services
COPY storage ./storage
COPY standin ./standin
COPY locales ./locales
COPY examples ./examples
RUN pip install -e . && useradd --create-home --uid 10001 station \
    && mkdir -p /app/data && chown station:station /app/data

USER station
VOLUME ["/app/data"]
CMD ["volunteer-bot", "run"]
