FROM python:3.12-slim

# Fonts that render Chinese (charts and certificates draw text with them).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk fontconfig \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The dependencies exactly as locked, each file checked against its hash
# (requirements/lock.txt, from scripts/lock.sh); then the bot, without dependencies.
COPY requirements/lock.txt /tmp/lock.txt
RUN pip install --require-hashes --requirement /tmp/lock.txt && rm /tmp/lock.txt

# The bot as a package: catalogs, migrations and the example station tree come
# with it (package data), so nothing is read from the source tree at run time.
COPY pyproject.toml README.md LICENSE /tmp/src/
COPY bot /tmp/src/bot
COPY ui /tmp/src/ui
COPY handlers /tmp/src/handlers
COPY reports /tmp/src/reports
COPY services /tmp/src/services
COPY storage /tmp/src/storage
COPY standin /tmp/src/standin
COPY locales /tmp/src/locales
RUN pip install --no-deps /tmp/src && rm -rf /tmp/src \
    && useradd --create-home --uid 10001 station \
    && mkdir -p /app/data && chown station:station /app/data

# The database (sqlite:///data/volunteer.db by default) lives in the volume.
WORKDIR /app
USER station
VOLUME ["/app/data"]
CMD ["volunteer-bot", "run"]
