"""The Scrapy project that collects public posts. Sources come from configs/sources.yaml."""
