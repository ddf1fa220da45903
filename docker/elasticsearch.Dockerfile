# Elasticsearch with the smartcn Chinese analyzer (analysis-smartcn). Without the plugin the text
# index still works: src/store/elastic/schema.ts falls back to CJK bigrams and records that choice
# in the index _meta.
ARG ES_VERSION=9.1.5
FROM docker.elastic.co/elasticsearch/elasticsearch:${ES_VERSION}
RUN bin/elasticsearch-plugin install --batch analysis-smartcn
