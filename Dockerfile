# harness and mock-api in one small runtime image, run as a non-root user.
#   docker build -t mission-lab .
#   docker run --rm mission-lab --help                 # harness (the entrypoint)
#   docker run --rm --entrypoint mock-api mission-lab --help
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p harness -p mock-api

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --create-home --home-dir /home/lab lab \
    && mkdir -p /data /results && chown lab /data /results
COPY --from=build /src/target/release/harness /src/target/release/mock-api /usr/local/bin/
USER 10001
WORKDIR /home/lab
ENTRYPOINT ["harness"]
