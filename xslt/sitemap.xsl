<?xml version="1.0" encoding="UTF-8"?>
<!-- sitemap.xml with hreflang alternates for every public page. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
    xmlns:xhtml="http://www.w3.org/1999/xhtml">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>
  <xsl:variable name="base" select="/page/@base-url"/>
  <xsl:template match="/page">
    <urlset>
      <xsl:for-each select="urls/url">
        <url>
          <loc><xsl:value-of select="concat($base, @href)"/></loc>
          <xsl:if test="@lastmod"><lastmod><xsl:value-of select="@lastmod"/></lastmod></xsl:if>
          <xsl:for-each select="alt">
            <xhtml:link rel="alternate" hreflang="{@lang}" href="{$base}{@href}"/>
          </xsl:for-each>
        </url>
      </xsl:for-each>
    </urlset>
  </xsl:template>
</xsl:stylesheet>
