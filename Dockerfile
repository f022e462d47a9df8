# roomcast server image (used by docker-compose.yml). Not built in this project's CI: its
# machines have no Docker engine.
FROM node:20-bookworm AS build
WORKDIR /app
COPY . .
RUN npm ci && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
ENV ROOMCAST_HOST=0.0.0.0 ROOMCAST_PORT=8080 ROOMCAST_DATA=/data
EXPOSE 8080
VOLUME /data
CMD ["node", "packages/server/bin/roomcast.js", "serve"]
