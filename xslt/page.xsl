<?xml version="1.0" encoding="UTF-8"?>
<!-- Page templates: one input document per page (built by sitegen from the content model), one
     HTML page out. UI strings come from stp:msg(key), in the page's locale. Text is always output
     through xsl:value-of, so it is escaped; Markdown bodies arrive as a node tree and are copied. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:stp="urn:stp:xslt"
    exclude-result-prefixes="stp">
  <xsl:output method="html" encoding="UTF-8" indent="no"/>

  <xsl:variable name="lang" select="/page/@lang"/>
  <xsl:variable name="base" select="/page/@base-url"/>
  <xsl:variable name="kind" select="/page/@kind"/>

  <xsl:template match="/page">
    <html lang="{$lang}" dir="{@dir}">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>
          <xsl:choose>
            <xsl:when test="$kind = 'shell'"><xsl:comment>stp:title <xsl:value-of select="@mark"/></xsl:comment></xsl:when>
            <xsl:otherwise><xsl:call-template name="page-title"/></xsl:otherwise>
          </xsl:choose>
          <xsl:text> · </xsl:text>
          <xsl:value-of select="site-title"/>
        </title>
        <link rel="stylesheet" href="/assets/stp.css"/>
        <link rel="icon" href="data:,"/>
        <script src="/assets/stp.js" defer="defer"></script>
        <xsl:if test="$kind = 'home' or $kind = 'tile' or $kind = 'doc'">
          <xsl:for-each select="locales/locale">
            <link rel="alternate" hreflang="{@id}" href="{$base}{@href}"/>
          </xsl:for-each>
          <link rel="alternate" hreflang="x-default" href="{$base}{locales/locale[1]/@href}"/>
          <link rel="canonical" href="{$base}{@url}"/>
        </xsl:if>
        <link rel="alternate" type="application/atom+xml" href="/{$lang}/feed.xml" title="{stp:msg('feed.title', 'site', site-title)}"/>
      </head>
      <body class="page-{$kind}">
        <a class="skip" href="#main"><xsl:value-of select="stp:msg('nav.skip')"/></a>
        <header class="top">
          <a class="brand" href="/{$lang}/"><xsl:value-of select="site-title"/></a>
          <nav class="tools" aria-label="{stp:msg('nav.main')}">
            <ul>
              <li><a href="/{$lang}/"><xsl:value-of select="stp:msg('nav.home')"/></a></li>
              <li><a href="/stp/search?lang={$lang}"><xsl:value-of select="stp:msg('nav.search')"/></a></li>
              <li><a href="/stp/library?lang={$lang}"><xsl:value-of select="stp:msg('nav.library')"/></a></li>
              <li><a href="/{$lang}/org/"><xsl:value-of select="stp:msg('nav.org')"/></a></li>
              <li><a href="/stp/login?lang={$lang}"><xsl:value-of select="stp:msg('nav.signin')"/></a></li>
            </ul>
          </nav>
          <nav class="languages" aria-label="{stp:msg('nav.language')}">
            <ul>
              <xsl:for-each select="locales/locale">
                <li>
                  <a href="{@href}" hreflang="{@id}" lang="{@id}" dir="{@dir}">
                    <xsl:if test="@current = 'yes'"><xsl:attribute name="aria-current">page</xsl:attribute></xsl:if>
                    <xsl:value-of select="."/>
                  </a>
                </li>
              </xsl:for-each>
            </ul>
          </nav>
        </header>
        <main id="main">
          <xsl:choose>
            <xsl:when test="$kind = 'home'"><xsl:call-template name="home"/></xsl:when>
            <xsl:when test="$kind = 'tile'"><xsl:apply-templates select="tile"/></xsl:when>
            <xsl:when test="$kind = 'doc' or $kind = 'org-doc'"><xsl:apply-templates select="doc" mode="page"/></xsl:when>
            <xsl:when test="$kind = 'org-home'"><xsl:apply-templates select="org"/></xsl:when>
            <xsl:when test="$kind = 'shell'"><xsl:comment>stp:main <xsl:value-of select="/page/@mark"/></xsl:comment></xsl:when>
          </xsl:choose>
        </main>
        <footer class="bottom">
          <p><xsl:value-of select="stp:msg('footer.note')"/></p>
          <p>
            <a href="/{$lang}/feed.xml"><xsl:value-of select="stp:msg('footer.feed')"/></a>
            <xsl:text> · </xsl:text>
            <a href="/sitemap.xml"><xsl:value-of select="stp:msg('footer.sitemap')"/></a>
          </p>
        </footer>
      </body>
    </html>
  </xsl:template>

  <xsl:template name="page-title">
    <xsl:choose>
      <xsl:when test="$kind = 'home'"><xsl:value-of select="stp:msg('nav.home')"/></xsl:when>
      <xsl:when test="$kind = 'tile'"><xsl:value-of select="tile/label"/></xsl:when>
      <xsl:when test="$kind = 'org-home'"><xsl:value-of select="stp:msg('org.title')"/></xsl:when>
      <xsl:otherwise><xsl:value-of select="doc/title"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Home: categories, then What's New. -->
  <xsl:template name="home">
    <h1><xsl:value-of select="site-title"/></h1>
    <p class="intro"><xsl:value-of select="stp:msg('home.intro')"/></p>
    <section aria-labelledby="sections-h">
      <h2 id="sections-h"><xsl:value-of select="stp:msg('home.sections')"/></h2>
      <xsl:for-each select="nav/section">
        <section class="section" aria-labelledby="s-{@id}">
          <h3 id="s-{@id}"><xsl:value-of select="label"/></h3>
          <xsl:if test="description"><p><xsl:value-of select="description"/></p></xsl:if>
          <ul class="tiles">
            <xsl:for-each select="tile">
              <li class="tile">
                <a href="{@href}"><xsl:value-of select="label"/></a>
                <xsl:if test="description"><p><xsl:value-of select="description"/></p></xsl:if>
              </li>
            </xsl:for-each>
          </ul>
        </section>
      </xsl:for-each>
    </section>
    <section aria-labelledby="new-h">
      <h2 id="new-h"><xsl:value-of select="stp:msg('home.whatsnew')"/></h2>
      <xsl:choose>
        <xsl:when test="whatsnew/doc">
          <ol class="docs"><xsl:apply-templates select="whatsnew/doc" mode="item"/></ol>
        </xsl:when>
        <xsl:otherwise><p><xsl:value-of select="stp:msg('home.whatsnew.empty')"/></p></xsl:otherwise>
      </xsl:choose>
      <p><a href="/{$lang}/feed.xml"><xsl:value-of select="stp:msg('home.feed')"/></a></p>
    </section>
  </xsl:template>

  <xsl:template match="tile">
    <nav class="crumbs" aria-label="{stp:msg('nav.breadcrumb')}">
      <a href="/{$lang}/"><xsl:value-of select="stp:msg('nav.home')"/></a>
      <xsl:text> › </xsl:text><xsl:value-of select="section"/>
    </nav>
    <h1><xsl:value-of select="label"/></h1>
    <xsl:if test="string(description)"><p class="intro"><xsl:value-of select="description"/></p></xsl:if>
    <xsl:if test="updated">
      <p class="updated"><xsl:value-of select="stp:msg('tile.updated')"/><xsl:text>: </xsl:text>
        <time datetime="{updated/@iso}"><xsl:value-of select="updated"/></time></p>
    </xsl:if>
    <h2><xsl:value-of select="stp:msg('tile.documents')"/></h2>
    <xsl:choose>
      <xsl:when test="docs/doc"><ol class="docs"><xsl:apply-templates select="docs/doc" mode="item"/></ol></xsl:when>
      <xsl:otherwise><p><xsl:value-of select="stp:msg('tile.empty')"/></p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="org">
    <h1><xsl:value-of select="stp:msg('org.title')"/></h1>
    <p class="intro"><xsl:value-of select="stp:msg('org.intro', 'organization', name)"/></p>
    <xsl:choose>
      <xsl:when test="docs/doc"><ol class="docs"><xsl:apply-templates select="docs/doc" mode="item"/></ol></xsl:when>
      <xsl:otherwise><p><xsl:value-of select="stp:msg('org.empty')"/></p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- A document in a list. -->
  <xsl:template match="doc" mode="item">
    <li class="doc">
      <a class="title" href="{@href}">
        <xsl:if test="title/@fallback"><xsl:attribute name="lang"><xsl:value-of select="title/@lang"/></xsl:attribute><xsl:attribute name="dir">auto</xsl:attribute></xsl:if>
        <xsl:value-of select="title"/>
      </a>
      <xsl:text> </xsl:text>
      <xsl:call-template name="badge"/>
      <p class="meta">
        <time datetime="{published/@iso}"><xsl:value-of select="published"/></time>
        <xsl:if test="tile and $kind != 'tile'"><xsl:text> · </xsl:text><a href="{tile/@href}"><xsl:value-of select="tile"/></a></xsl:if>
      </p>
      <p class="summary">
        <xsl:if test="summary/@fallback"><xsl:attribute name="lang"><xsl:value-of select="summary/@lang"/></xsl:attribute><xsl:attribute name="dir">auto</xsl:attribute></xsl:if>
        <xsl:value-of select="summary"/>
      </p>
      <xsl:call-template name="save"/>
    </li>
  </xsl:template>

  <!-- "Save to library": a plain form that works without JavaScript (the module asks a signed-in
       user to confirm, and sends an anonymous one to sign in first); stp.js adds the user's token
       and turns it into an in-place toggle. -->
  <xsl:template name="save">
    <form class="save" method="post" action="/stp/library" data-series="{@series}">
      <input type="hidden" name="action" value="add"/>
      <input type="hidden" name="doc" value="{@id}"/>
      <input type="hidden" name="lang" value="{$lang}"/>
      <input type="hidden" name="return" value="{/page/@url}"/>
      <button type="submit" data-add="{stp:msg('library.save')}" data-remove="{stp:msg('library.remove')}"><xsl:value-of select="stp:msg('library.save')"/></button>
    </form>
  </xsl:template>

  <xsl:template name="badge">
    <span class="badge badge-{@access}">
      <xsl:value-of select="stp:msg(concat('access.', @access))"/>
      <xsl:if test="@access = 'tenant' and @nda = 'yes'"><xsl:text> · </xsl:text><xsl:value-of select="stp:msg('access.nda')"/></xsl:if>
    </span>
  </xsl:template>

  <!-- A document page. -->
  <xsl:template match="doc" mode="page">
    <nav class="crumbs" aria-label="{stp:msg('nav.breadcrumb')}">
      <a href="/{$lang}/"><xsl:value-of select="stp:msg('nav.home')"/></a>
      <xsl:choose>
        <xsl:when test="$kind = 'org-doc'">
          <xsl:text> › </xsl:text><a href="/{$lang}/org/"><xsl:value-of select="stp:msg('org.title')"/></a>
        </xsl:when>
        <xsl:when test="tile">
          <xsl:text> › </xsl:text><xsl:value-of select="tile/@section"/>
          <xsl:text> › </xsl:text><a href="{tile/@href}"><xsl:value-of select="tile"/></a>
        </xsl:when>
      </xsl:choose>
    </nav>
    <article>
      <h1>
        <xsl:if test="title/@fallback"><xsl:attribute name="lang"><xsl:value-of select="title/@lang"/></xsl:attribute><xsl:attribute name="dir">auto</xsl:attribute></xsl:if>
        <xsl:value-of select="title"/>
      </h1>
      <xsl:if test="current">
        <p class="notice" role="note"><xsl:value-of select="stp:msg('doc.superseded')"/><xsl:text> </xsl:text>
          <a href="{current/doc/@href}"><xsl:value-of select="stp:msg('doc.current')"/>: <xsl:value-of select="current/doc/title"/></a></p>
      </xsl:if>
      <p class="summary">
        <xsl:if test="summary/@fallback"><xsl:attribute name="lang"><xsl:value-of select="summary/@lang"/></xsl:attribute><xsl:attribute name="dir">auto</xsl:attribute></xsl:if>
        <xsl:value-of select="summary"/>
      </p>
      <xsl:call-template name="save"/>
      <h2><xsl:value-of select="stp:msg('doc.details')"/></h2>
      <dl class="details">
        <dt><xsl:value-of select="stp:msg('doc.published')"/></dt>
        <dd><time datetime="{published/@iso}"><xsl:value-of select="published"/></time></dd>
        <dt><xsl:value-of select="stp:msg('doc.version')"/></dt>
        <dd><xsl:value-of select="@version"/></dd>
        <dt><xsl:value-of select="stp:msg('access.label')"/></dt>
        <dd><xsl:call-template name="badge"/><xsl:text> </xsl:text><xsl:value-of select="stp:msg(concat('access.', @access, '.help'))"/></dd>
        <xsl:if test="tile">
          <dt><xsl:value-of select="stp:msg('doc.category')"/></dt>
          <dd><a href="{tile/@href}"><xsl:value-of select="tile"/></a></dd>
        </xsl:if>
        <xsl:call-template name="terms"><xsl:with-param name="list" select="services"/><xsl:with-param name="key">doc.services</xsl:with-param></xsl:call-template>
        <xsl:call-template name="terms"><xsl:with-param name="list" select="regions"/><xsl:with-param name="key">doc.regions</xsl:with-param></xsl:call-template>
        <xsl:call-template name="terms"><xsl:with-param name="list" select="industries"/><xsl:with-param name="key">doc.industries</xsl:with-param></xsl:call-template>
      </dl>
      <xsl:if test="change">
        <h2><xsl:value-of select="stp:msg('doc.change')"/></h2>
        <p class="change">
          <xsl:if test="change/@fallback"><xsl:attribute name="lang"><xsl:value-of select="change/@lang"/></xsl:attribute><xsl:attribute name="dir">auto</xsl:attribute></xsl:if>
          <xsl:value-of select="change"/>
        </p>
      </xsl:if>
      <xsl:if test="body/@fallback">
        <p class="notice" role="note"><xsl:value-of select="stp:msg('doc.fallback', 'language', body/@language)"/></p>
      </xsl:if>
      <div class="body" lang="{body/@lang}">
        <xsl:if test="body/@fallback"><xsl:attribute name="dir">auto</xsl:attribute></xsl:if>
        <xsl:apply-templates select="body/node()" mode="body"/>
      </div>
      <h2 id="downloads"><xsl:value-of select="stp:msg('doc.files')"/></h2>
      <table class="files">
        <thead>
          <tr>
            <th scope="col"><xsl:value-of select="stp:msg('doc.download')"/></th>
            <th scope="col"><xsl:value-of select="stp:msg('doc.file.language')"/></th>
            <th scope="col"><xsl:value-of select="stp:msg('doc.file.size')"/></th>
            <th scope="col"><xsl:value-of select="stp:msg('doc.file.sha256')"/></th>
          </tr>
        </thead>
        <tbody>
          <xsl:for-each select="files/file">
            <tr>
              <td><a href="{@href}" type="{@type}" hreflang="{@lang}"><xsl:value-of select="@name"/></a></td>
              <td lang="{@lang}"><xsl:value-of select="@language"/></td>
              <td><xsl:value-of select="@size-label"/></td>
              <td><code class="hash"><xsl:value-of select="@sha256"/></code></td>
            </tr>
          </xsl:for-each>
        </tbody>
      </table>
      <xsl:if test="older/doc">
        <h2><xsl:value-of select="stp:msg('doc.earlier')"/></h2>
        <p><xsl:value-of select="stp:msg('doc.earlier.help')"/></p>
        <ul class="versions">
          <xsl:for-each select="older/doc">
            <li>
              <a href="{@href}"><xsl:value-of select="stp:msg('doc.version')"/><xsl:text> </xsl:text><xsl:value-of select="@version"/></a>
              <xsl:text> · </xsl:text><time datetime="{published/@iso}"><xsl:value-of select="published"/></time>
              <xsl:text> · </xsl:text><a href="{@download}"><xsl:value-of select="stp:msg('doc.download')"/></a>
            </li>
          </xsl:for-each>
        </ul>
      </xsl:if>
    </article>
  </xsl:template>

  <xsl:template name="terms">
    <xsl:param name="list"/>
    <xsl:param name="key"/>
    <xsl:if test="$list/term">
      <dt><xsl:value-of select="stp:msg($key)"/></dt>
      <dd>
        <xsl:for-each select="$list/term">
          <xsl:if test="position() &gt; 1"><xsl:text>, </xsl:text></xsl:if>
          <xsl:value-of select="."/>
        </xsl:for-each>
      </dd>
    </xsl:if>
  </xsl:template>

  <!-- Bodies: the page's title is its only h1, so a body's h1 becomes an h2 (a section of the
       page, beside Details and Downloads). -->
  <xsl:template match="h1" mode="body">
    <h2><xsl:apply-templates select="@*|node()" mode="body"/></h2>
  </xsl:template>
  <xsl:template match="@*|node()" mode="body">
    <xsl:copy><xsl:apply-templates select="@*|node()" mode="body"/></xsl:copy>
  </xsl:template>
  <!-- cmark's markers for omitted raw HTML stay out of the page. -->
  <xsl:template match="comment()" mode="body"/>
  <xsl:template match="comment()"/>
</xsl:stylesheet>
