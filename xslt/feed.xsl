<?xml version="1.0" encoding="UTF-8"?>
<!-- Atom feed of What's New for one locale (listed documents only). -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns="http://www.w3.org/2005/Atom"
    xmlns:stp="urn:stp:xslt"
    exclude-result-prefixes="stp">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>
  <xsl:variable name="base" select="/page/@base-url"/>
  <xsl:template match="/page">
    <feed xml:lang="{@lang}">
      <title><xsl:value-of select="stp:msg('feed.title', 'site', site-title)"/></title>
      <id><xsl:value-of select="concat($base, @url)"/></id>
      <link rel="self" href="{$base}{@url}"/>
      <link rel="alternate" type="text/html" href="{$base}/{@lang}/"/>
      <updated>
        <xsl:choose>
          <xsl:when test="whatsnew/doc"><xsl:value-of select="whatsnew/doc[1]/published/@iso"/>T00:00:00Z</xsl:when>
          <xsl:otherwise>1970-01-01T00:00:00Z</xsl:otherwise>
        </xsl:choose>
      </updated>
      <author><name><xsl:value-of select="site-title"/></name></author>
      <xsl:for-each select="whatsnew/doc">
        <entry>
          <title><xsl:value-of select="title"/></title>
          <id><xsl:value-of select="concat($base, '/docs/', @id)"/></id>
          <link rel="alternate" type="text/html" href="{$base}{@href}"/>
          <updated><xsl:value-of select="published/@iso"/>T00:00:00Z</updated>
          <summary><xsl:value-of select="summary"/><xsl:if test="change"><xsl:text> — </xsl:text><xsl:value-of select="change"/></xsl:if></summary>
          <category term="{tile/@id}" label="{tile}"/>
        </entry>
      </xsl:for-each>
    </feed>
  </xsl:template>
</xsl:stylesheet>
