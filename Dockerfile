# syntax=docker/dockerfile:1
# Build stage: compiles the release binary (migrations and Swagger UI are embedded in it).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY examples ./examples
COPY crates ./crates
RUN cargo build --release --locked --bin gitpulse

# Runtime stage: a small Debian with git (backups, pull repositories) and curl (healthcheck).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/gitpulse gitpulse \
 && install -d -m 0700 -o gitpulse -g gitpulse /data
COPY --from=build /src/target/release/gitpulse /usr/local/bin/gitpulse
USER gitpulse
WORKDIR /var/lib/gitpulse
# Every file gitpulse writes (the token encryption key, mirrors, backups) goes under /data.
ENV LISTEN_ADDR=0.0.0.0:8080 \
    DATA_DIR=/data \
    LOG_FORMAT=json
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["/usr/local/bin/gitpulse"]
CMD ["serve"]
