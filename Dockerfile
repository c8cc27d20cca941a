# syntax=docker/dockerfile:1
# The one MoleSignal image: every role, chosen by MS_NODE.ROLES; config by MS_* variables (see conf/config.toml).
#   docker build -t molesignal:0.1.0 .
#   docker run -p 5080:5080 -v molesignal:/data molesignal:0.1.0

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, on the project files alone, so a code change does not redo it.
COPY Directory.Build.props Directory.Packages.props MoleSignal.sln ./
COPY src/Grains.Abstractions/Grains.Abstractions.csproj src/Grains.Abstractions/
COPY src/Grains/Grains.csproj src/Grains/
COPY src/Gateway/Gateway.csproj src/Gateway/
COPY src/Silo/Silo.csproj src/Silo/
RUN dotnet restore src/Silo/Silo.csproj
COPY src/ src/
RUN dotnet publish src/Silo/Silo.csproj -c Release --no-restore -o /out

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# Debian's chromium renders scheduled reports; nothing else is added to the runtime image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home molesignal \
    && mkdir -p /data && chown molesignal:molesignal /data
COPY --from=build /out /app
RUN ln -s /app/molesignal /usr/local/bin/molesignal
ENV MS_NODE.DATA_DIR=/data \
    MS_WAL.DIR=/data/wal \
    MS_STORE.OBJECT.ROOT=/data/objects \
    MS_HTTP.BIND=0.0.0.0 \
    MS_GRPC.BIND=0.0.0.0
WORKDIR /data
VOLUME /data
EXPOSE 5080 5082
USER molesignal
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 CMD ["molesignal", "healthcheck"]
ENTRYPOINT ["molesignal"]
