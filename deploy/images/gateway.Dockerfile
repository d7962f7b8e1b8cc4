# The gateway image: a static evidencegw binary on a distroless base.
# Build from the repository root:
#   docker build -f deploy/images/gateway.Dockerfile -t evidencegw:dev .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/evidencegw ./cmd/evidencegw

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/evidencegw /usr/local/bin/evidencegw
# The gateway keeps no state of its own; /var/lib/evidencegw only holds
# files derived from its config (it may be an emptyDir / tmpfs).
USER nonroot
# 8443: the mTLS API; 9464: /metrics and the probes in plain HTTP (ops_listen), for
# the operator's network only.
EXPOSE 8443 9464
ENTRYPOINT ["/usr/local/bin/evidencegw"]
CMD ["serve", "--config", "/etc/evidencegw/gateway.yaml", "--data", "/var/lib/evidencegw"]
