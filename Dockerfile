# Production image: a static souk binary on a small base, running as non-root.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/souk ./cmd/souk

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/souk /usr/local/bin/souk
USER nonroot:nonroot
WORKDIR /var/lib/souk
ENV SOUK_ADDR=:8080 SOUK_DATA_DIR=/var/lib/souk SOUK_ENV=production
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/souk"]
CMD ["serve"]
