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
          <xsl:call-template name="page-title"/>
          <xsl:text> · </xsl:text>
          <xsl:value-of select="site-title"/>
        </title>
        <link rel="stylesheet" href="/assets/stp.css"/>
        <link rel="icon" href="data:,"/>
        <xsl:if test="@refresh">
          <!-- The NDA confirmation starts the download it was accepted for (an attachment: the page stays).
               At once: a delayed refresh fails WCAG 2.2.1 (axe-core meta-refresh). -->
          <meta http-equiv="refresh" content="0;url={@refresh}"/>
        </xsl:if>
        <script src="/assets/stp.js" defer="defer"></script>
        <xsl:if test="$kind = 'home' or $kind = 'tile' or $kind = 'doc' or $kind = 'whats-new'">
          <xsl:for-each select="locales/locale">
            <link rel="alternate" hreflang="{@id}" href="{$base}{@href}"/>
          </xsl:for-each>
          <link rel="alternate" hreflang="x-default" href="{$base}{locales/locale[1]/@href}"/>
          <link rel="canonical" href="{$base}{@url}"/>
        </xsl:if>
        <xsl:if test="$kind = 'whats-new'">
          <!-- The months as a series of pages: "previous" is the newer month, "next" the older. -->
          <xsl:if test="whatsnew/newer"><link rel="prev" href="{whatsnew/newer/@href}"/></xsl:if>
          <xsl:if test="whatsnew/older"><link rel="next" href="{whatsnew/older/@href}"/></xsl:if>
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
              <li><a href="/stp/library?lang={$lang}"><xsl:value-of select="stp:msg('nav.library')"/></a></li>
              <li><a href="/{$lang}/org/"><xsl:value-of select="stp:msg('nav.org')"/></a></li>
              <xsl:if test="user/@kind = 'tenant-admin' or user/@staff = 'yes'">
                <li class="admin"><a href="/stp/admin?lang={$lang}"><xsl:value-of select="stp:msg('nav.admin')"/></a></li>
              </xsl:if>
              <xsl:choose>
                <xsl:when test="user">
                  <li class="who">
                    <a href="/stp/account?lang={$lang}">
                      <xsl:value-of select="user/@name"/>
                      <xsl:if test="user/@org"><xsl:text> · </xsl:text><xsl:value-of select="user/@org"/></xsl:if>
                    </a>
                  </li>
                  <xsl:if test="user/@csrf"><li class="signout"><xsl:call-template name="signout"/></li></xsl:if>
                </xsl:when>
                <xsl:otherwise>
                  <!-- Sign-in comes back to this page; stp.js shows who is signed in on static pages. -->
                  <li class="signin" data-signout="{stp:msg('nav.signout')}" data-account="/stp/account?lang={$lang}" data-admin="{stp:msg('nav.admin')}" data-admin-href="/stp/admin?lang={$lang}">
                    <a href="/stp/login?lang={$lang}&amp;return={/page/@return}"><xsl:value-of select="stp:msg('nav.signin')"/></a>
                  </li>
                </xsl:otherwise>
              </xsl:choose>
            </ul>
          </nav>
          <!-- Search from every page, static ones too: a plain GET form. -->
          <form class="search-box" role="search" method="get" action="/stp/search">
            <input type="hidden" name="lang" value="{$lang}"/>
            <input type="search" name="q" maxlength="256" aria-label="{stp:msg('search.label')}" placeholder="{stp:msg('search.placeholder')}">
              <xsl:if test="$kind = 'search'"><xsl:attribute name="value"><xsl:value-of select="search/@q"/></xsl:attribute></xsl:if>
            </input>
            <button type="submit"><xsl:value-of select="stp:msg('search.button')"/></button>
          </form>
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
          <xsl:if test="@preview"><p class="notice preview" role="note"><xsl:value-of select="stp:msg('preview.build')"/></p></xsl:if>
          <xsl:choose>
            <xsl:when test="$kind = 'home'"><xsl:call-template name="home"/></xsl:when>
            <xsl:when test="$kind = 'tile'"><xsl:apply-templates select="tile"/></xsl:when>
            <xsl:when test="$kind = 'doc' or $kind = 'org-doc'"><xsl:apply-templates select="doc" mode="page"/></xsl:when>
            <xsl:when test="$kind = 'org-home'"><xsl:apply-templates select="org"/></xsl:when>
            <xsl:when test="$kind = 'whats-new'"><xsl:apply-templates select="whatsnew"/></xsl:when>
            <xsl:when test="/page/title"><xsl:apply-templates select="error | nda | library | confirm | notifications | account | search | admin | feedback"/></xsl:when>
          </xsl:choose>
        </main>
        <footer class="bottom">
          <xsl:if test="$kind != 'feedback'"><xsl:call-template name="feedback-widget"/></xsl:if>
          <!-- The portal's own words from site.xml (stp_view_portal_el), else the UI strings. Links
               are https, http or mailto only (sitegen checks); text and addresses are escaped. -->
          <p>
            <xsl:choose>
              <xsl:when test="portal/footer"><xsl:value-of select="portal/footer"/></xsl:when>
              <xsl:otherwise><xsl:value-of select="stp:msg('footer.note')"/></xsl:otherwise>
            </xsl:choose>
          </p>
          <p class="links">
            <xsl:for-each select="portal/link">
              <a href="{@href}" class="{@kind}"><xsl:value-of select="."/></a>
              <xsl:text> · </xsl:text>
            </xsl:for-each>
            <a href="/{$lang}/feed.xml"><xsl:value-of select="stp:msg('footer.feed')"/></a>
            <xsl:text> · </xsl:text>
            <a href="/sitemap.xml"><xsl:value-of select="stp:msg('footer.sitemap')"/></a>
          </p>
        </footer>
      </body>
    </html>
  </xsl:template>

  <!-- A notification digest's HTML part (libstp/stp_mail.c builds its input): a mail, not a page
       of the site, so no header, scripts or styles that mail clients would drop anyway. -->
  <xsl:template match="/page[@kind = 'digest']" priority="2">
    <html lang="{$lang}" dir="{@dir}">
      <head>
        <meta charset="utf-8"/>
        <title><xsl:value-of select="title"/></title>
      </head>
      <body>
        <p><xsl:value-of select="stp:msg('digest.intro')"/></p>
        <ul>
          <xsl:for-each select="digest/item">
            <li>
              <a href="{@href}"><xsl:value-of select="."/></a>
              <xsl:text> (</xsl:text><xsl:value-of select="stp:msg('library.version')"/>: <xsl:value-of select="@version"/><xsl:text>)</xsl:text>
              <xsl:if test="@change">
                <br/><xsl:value-of select="stp:msg('digest.change')"/>: <xsl:value-of select="@change"/>
              </xsl:if>
            </li>
          </xsl:for-each>
        </ul>
        <hr/>
        <p><xsl:value-of select="site-title"/><br/><a href="{digest/@settings}"><xsl:value-of select="stp:msg('digest.settings')"/></a></p>
      </body>
    </html>
  </xsl:template>

  <xsl:template name="page-title">
    <xsl:choose>
      <xsl:when test="/page/title"><xsl:value-of select="/page/title"/></xsl:when>
      <xsl:when test="$kind = 'home'"><xsl:value-of select="stp:msg('nav.home')"/></xsl:when>
      <xsl:when test="$kind = 'tile'"><xsl:value-of select="tile/label"/></xsl:when>
      <xsl:when test="$kind = 'org-home'"><xsl:value-of select="stp:msg('org.title')"/></xsl:when>
      <xsl:when test="$kind = 'whats-new' and /page/whatsnew/label"><xsl:value-of select="stp:msg('whatsnew.title.month', 'month', /page/whatsnew/label)"/></xsl:when>
      <xsl:when test="$kind = 'whats-new'"><xsl:value-of select="stp:msg('home.whatsnew')"/></xsl:when>
      <xsl:otherwise><xsl:value-of select="doc/title"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Home: categories, then What's New. -->
  <xsl:template name="home">
    <h1><xsl:value-of select="site-title"/></h1>
    <p class="intro">
      <xsl:choose>
        <xsl:when test="portal/tagline"><xsl:value-of select="portal/tagline"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="stp:msg('home.intro')"/></xsl:otherwise>
      </xsl:choose>
    </p>
    <xsl:apply-templates select="recommended"/>
    <section aria-labelledby="sections-h">
      <h2 id="sections-h"><xsl:value-of select="stp:msg('home.sections')"/></h2>
      <xsl:for-each select="nav/section">
        <section class="section" aria-labelledby="s-{@id}">
          <h3 id="s-{@id}"><xsl:value-of select="label"/></h3>
          <xsl:if test="description"><p><xsl:value-of select="description"/></p></xsl:if>
          <ul class="tiles">
            <xsl:for-each select="tile">
              <li class="tile">
                <a href="{@href}">
                  <!-- An organisation's own documents: members go to their organisation's page (sign-in first). -->
                  <xsl:if test="@org = 'yes'"><xsl:attribute name="href">/<xsl:value-of select="$lang"/>/org/</xsl:attribute></xsl:if>
                  <xsl:value-of select="label"/>
                </a>
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
      <p><a href="/{$lang}/whats-new/"><xsl:value-of select="stp:msg('home.whatsnew.all')"/></a></p>
      <p><a href="/{$lang}/feed.xml"><xsl:value-of select="stp:msg('home.feed')"/></a></p>
    </section>
  </xsl:template>

  <!-- What's new: one month of the listed documents, the newer and older months, and all months
       by year. The newest month is /<lang>/whats-new/ itself. -->
  <xsl:template match="whatsnew">
    <nav class="crumbs" aria-label="{stp:msg('nav.breadcrumb')}">
      <a href="/{$lang}/"><xsl:value-of select="stp:msg('nav.home')"/></a>
      <xsl:text> › </xsl:text>
      <xsl:choose>
        <xsl:when test="/page/@url = concat('/', $lang, '/whats-new/')"><xsl:value-of select="stp:msg('home.whatsnew')"/></xsl:when>
        <xsl:otherwise><a href="/{$lang}/whats-new/"><xsl:value-of select="stp:msg('home.whatsnew')"/></a></xsl:otherwise>
      </xsl:choose>
    </nav>
    <h1><xsl:call-template name="page-title"/></h1>
    <p class="intro"><xsl:value-of select="stp:msg('whatsnew.intro')"/></p>
    <xsl:choose>
      <xsl:when test="docs/doc"><ol class="docs whatsnew"><xsl:apply-templates select="docs/doc" mode="whatsnew"/></ol></xsl:when>
      <xsl:otherwise><p><xsl:value-of select="stp:msg('home.whatsnew.empty')"/></p></xsl:otherwise>
    </xsl:choose>
    <xsl:if test="newer or older">
      <nav class="pager" aria-label="{stp:msg('whatsnew.pager')}">
        <ul>
          <xsl:if test="newer"><li class="newer"><a rel="prev" href="{newer/@href}"><xsl:value-of select="stp:msg('whatsnew.newer', 'month', newer)"/></a></li></xsl:if>
          <xsl:if test="older"><li class="older"><a rel="next" href="{older/@href}"><xsl:value-of select="stp:msg('whatsnew.older', 'month', older)"/></a></li></xsl:if>
        </ul>
      </nav>
    </xsl:if>
    <xsl:if test="months/year">
      <nav class="months" aria-labelledby="months-h">
        <h2 id="months-h"><xsl:value-of select="stp:msg('whatsnew.months')"/></h2>
        <ul>
          <xsl:for-each select="months/year">
            <li>
              <span class="year"><xsl:value-of select="@id"/></span>
              <ul>
                <xsl:for-each select="month">
                  <li>
                    <a href="{@href}" aria-label="{@label}">
                      <xsl:if test="@current = 'yes'"><xsl:attribute name="aria-current">page</xsl:attribute></xsl:if>
                      <xsl:value-of select="."/>
                    </a>
                  </li>
                </xsl:for-each>
              </ul>
            </li>
          </xsl:for-each>
        </ul>
      </nav>
    </xsl:if>
    <p><a href="/{$lang}/feed.xml"><xsl:value-of select="stp:msg('home.feed')"/></a></p>
  </xsl:template>

  <!-- A document in What's new (the site's and an organisation's): what changed in this version,
       or what the document is when it is the first of its series. -->
  <xsl:template match="doc" mode="whatsnew">
    <li class="doc">
      <a class="title" href="{@href}">
        <xsl:if test="title/@fallback"><xsl:attribute name="lang"><xsl:value-of select="title/@lang"/></xsl:attribute><xsl:attribute name="dir">auto</xsl:attribute></xsl:if>
        <xsl:value-of select="title"/>
      </a>
      <xsl:text> </xsl:text>
      <xsl:call-template name="badge"/>
      <p class="meta">
        <time datetime="{published/@iso}"><xsl:value-of select="published"/></time>
        <xsl:if test="tile"><xsl:text> · </xsl:text><a href="{tile/@href}"><xsl:value-of select="tile"/></a></xsl:if>
        <xsl:apply-templates select="validity" mode="meta"/>
      </p>
      <xsl:choose>
        <xsl:when test="change">
          <p class="change">
            <span class="label"><xsl:value-of select="stp:msg('whatsnew.change')"/></span>
            <xsl:text> </xsl:text>
            <span>
              <xsl:if test="change/@fallback"><xsl:attribute name="lang"><xsl:value-of select="change/@lang"/></xsl:attribute><xsl:attribute name="dir">auto</xsl:attribute></xsl:if>
              <xsl:value-of select="change"/>
            </span>
          </p>
        </xsl:when>
        <xsl:otherwise>
          <p class="summary">
            <xsl:if test="summary/@fallback"><xsl:attribute name="lang"><xsl:value-of select="summary/@lang"/></xsl:attribute><xsl:attribute name="dir">auto</xsl:attribute></xsl:if>
            <xsl:value-of select="summary"/>
          </p>
        </xsl:otherwise>
      </xsl:choose>
      <xsl:call-template name="save"/>
    </li>
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
      <xsl:when test="@org = 'yes'">
        <p><xsl:value-of select="stp:msg('org.tile.body')"/></p>
        <p><a href="/{$lang}/org/"><xsl:value-of select="stp:msg('org.tile.open')"/></a></p>
      </xsl:when>
      <xsl:when test="docs/doc"><ol class="docs"><xsl:apply-templates select="docs/doc" mode="item"/></ol></xsl:when>
      <xsl:otherwise><p><xsl:value-of select="stp:msg('tile.empty')"/></p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="org">
    <h1><xsl:value-of select="stp:msg('org.title')"/></h1>
    <p class="intro"><xsl:value-of select="stp:msg('org.intro', 'organization', name)"/></p>
    <xsl:apply-templates select="/page/recommended"/>
    <xsl:choose>
      <xsl:when test="months/month">
        <!-- Every document shared with the organisation, as What's new: by month, newest first. -->
        <h2><xsl:value-of select="stp:msg('org.whatsnew')"/></h2>
        <xsl:for-each select="months/month">
          <section class="month" aria-labelledby="m-{@id}">
            <h3 id="m-{@id}"><xsl:value-of select="label"/></h3>
            <ol class="docs whatsnew"><xsl:apply-templates select="docs/doc" mode="whatsnew"/></ol>
          </section>
        </xsl:for-each>
      </xsl:when>
      <xsl:otherwise><p><xsl:value-of select="stp:msg('org.empty')"/></p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- A member's recommendations (mod_stp_home.c adds them to the home and organisation pages):
       current documents for the industries and regions the organisation chose. -->
  <xsl:template match="recommended">
    <section class="recommended" id="recommended" aria-labelledby="rec-h">
      <h2 id="rec-h"><xsl:value-of select="stp:msg('recommended.title')"/></h2>
      <p><xsl:value-of select="stp:msg('recommended.intro', 'terms', @terms)"/></p>
      <xsl:choose>
        <xsl:when test="doc">
          <ol class="docs">
            <xsl:for-each select="doc">
              <li class="doc">
                <a class="title" href="{@href}"><xsl:value-of select="title"/></a>
                <xsl:text> </xsl:text>
                <xsl:call-template name="badge"/>
                <p class="meta"><time datetime="{@date}"><xsl:value-of select="@date-text"/></time></p>
                <p class="summary"><xsl:value-of select="summary"/></p>
              </li>
            </xsl:for-each>
          </ol>
          <xsl:if test="@total &gt; count(doc)">
            <p><a href="/stp/search?lang={$lang}&amp;sort=date"><xsl:value-of select="stp:msg('recommended.more')"/></a></p>
          </xsl:if>
        </xsl:when>
        <xsl:otherwise><p><xsl:value-of select="stp:msg('recommended.none')"/></p></xsl:otherwise>
      </xsl:choose>
    </section>
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
        <xsl:apply-templates select="validity" mode="meta"/>
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

  <!-- A document's validity (sitegen judged it on the day of the build: docs/content-format.md#validity):
       the period in words, and a mark when it has not begun or has ended. -->
  <xsl:template name="validity-period">
    <xsl:choose>
      <xsl:when test="validity/from and validity/until"><xsl:value-of select="stp:msg('validity.range', 'from', string(validity/from), 'until', string(validity/until))"/></xsl:when>
      <xsl:when test="validity/from"><xsl:value-of select="stp:msg('validity.from', 'from', string(validity/from))"/></xsl:when>
      <xsl:otherwise><xsl:value-of select="stp:msg('validity.until', 'until', string(validity/until))"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="validity-badge">
    <xsl:if test="validity/@state = 'expired' or validity/@state = 'pending'">
      <xsl:text> </xsl:text><span class="badge badge-{validity/@state}"><xsl:value-of select="stp:msg(concat('validity.', validity/@state))"/></span>
    </xsl:if>
  </xsl:template>

  <!-- In a list: "Valid until ..." where it ends, and the mark. -->
  <xsl:template match="validity" mode="meta">
    <xsl:if test="until">
      <xsl:text> · </xsl:text><span class="validity validity-{@state}"><xsl:value-of select="stp:msg('validity.list', 'until', string(until))"/></span>
    </xsl:if>
    <xsl:for-each select="..">
      <xsl:call-template name="validity-badge"/>
    </xsl:for-each>
  </xsl:template>

  <xsl:template name="badge">
    <span class="badge badge-{@access}">
      <xsl:value-of select="stp:msg(concat('access.', @access))"/>
      <xsl:if test="@access = 'tenant' and @nda = 'yes'"><xsl:text> · </xsl:text><xsl:value-of select="stp:msg('access.nda')"/></xsl:if>
      <xsl:if test="requires/*"><xsl:text> · </xsl:text><xsl:call-template name="requires"/></xsl:if>
    </span>
  </xsl:template>

  <!-- What a document's <require> elements ask for, in words: "Requires: licence e5". -->
  <xsl:template name="requires">
    <xsl:variable name="what">
      <xsl:for-each select="requires/*">
        <xsl:if test="position() > 1"><xsl:value-of select="stp:msg('requires.separator')"/></xsl:if>
        <xsl:choose>
          <xsl:when test="self::role"><xsl:value-of select="stp:msg(concat('requires.role.', @name))"/></xsl:when>
          <xsl:otherwise><xsl:value-of select="stp:msg('requires.claim', 'claim', @name, 'value', @value)"/></xsl:otherwise>
        </xsl:choose>
      </xsl:for-each>
    </xsl:variable>
    <xsl:value-of select="stp:msg('requires.label', 'what', string($what))"/>
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
      <xsl:if test="draft">
        <p class="notice preview" role="note"><strong><xsl:value-of select="stp:msg('preview.draft')"/></strong></p>
      </xsl:if>
      <xsl:if test="embargo">
        <p class="notice preview" role="note"><strong><xsl:value-of select="stp:msg('preview.embargoed', 'date', embargo)"/></strong></p>
      </xsl:if>
      <xsl:if test="current">
        <p class="notice" role="note"><xsl:value-of select="stp:msg('doc.superseded')"/><xsl:text> </xsl:text>
          <a href="{current/doc/@href}"><xsl:value-of select="stp:msg('doc.current')"/>: <xsl:value-of select="current/doc/title"/></a></p>
      </xsl:if>
      <xsl:if test="validity/@state = 'expired'">
        <p class="notice expired" role="note"><xsl:value-of select="stp:msg('validity.expired.notice', 'until', string(validity/until))"/></p>
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
        <xsl:if test="validity">
          <dt><xsl:value-of select="stp:msg('doc.valid')"/></dt>
          <dd class="validity validity-{validity/@state}">
            <xsl:call-template name="validity-period"/>
            <xsl:call-template name="validity-badge"/>
          </dd>
        </xsl:if>
        <xsl:if test="reviewed">
          <dt><xsl:value-of select="stp:msg('doc.reviewed')"/></dt>
          <dd><time datetime="{reviewed/@iso}"><xsl:value-of select="reviewed"/></time></dd>
        </xsl:if>
        <dt><xsl:value-of select="stp:msg('access.label')"/></dt>
        <dd><xsl:call-template name="badge"/><xsl:text> </xsl:text><xsl:value-of select="stp:msg(concat('access.', @access, '.help'))"/></dd>
        <xsl:if test="tile">
          <dt><xsl:value-of select="stp:msg('doc.category')"/></dt>
          <dd><a href="{tile/@href}"><xsl:value-of select="tile"/></a></dd>
        </xsl:if>
        <xsl:call-template name="terms"><xsl:with-param name="list" select="services"/><xsl:with-param name="key">doc.services</xsl:with-param><xsl:with-param name="param">service</xsl:with-param></xsl:call-template>
        <xsl:call-template name="terms"><xsl:with-param name="list" select="regions"/><xsl:with-param name="key">doc.regions</xsl:with-param><xsl:with-param name="param">region</xsl:with-param></xsl:call-template>
        <xsl:call-template name="terms"><xsl:with-param name="list" select="industries"/><xsl:with-param name="key">doc.industries</xsl:with-param><xsl:with-param name="param">industry</xsl:with-param></xsl:call-template>
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


  <!-- === The module's pages (mod_stp/mod_stp_page.c builds their input) ======================= -->

  <!-- === Feedback (mod_stp/mod_stp_feedback.c) ================================================= -->

  <!-- "Was this page helpful?" on every page: a plain same-origin POST without JavaScript (the
       module thanks and offers a comment; a signed-in user confirms once, with a token); stp.js
       answers in place. About the page's path without its query: a module page's query may hold
       what the reader typed (a search), and counts are per page. Strings for stp.js come as data-
       attributes (no inline script). -->
  <xsl:template name="feedback-widget">
    <form class="feedback" method="post" action="/stp/feedback" aria-labelledby="feedback-q"
          data-thanks="{stp:msg('feedback.thanks')}" data-more="{stp:msg('feedback.more')}"
          data-send="{stp:msg('feedback.send')}" data-privacy="{stp:msg('feedback.privacy')}"
          data-error="{stp:msg('feedback.invalid')}">
      <input type="hidden" name="page" value="{substring-before(concat(/page/@url, '?'), '?')}"/>
      <input type="hidden" name="lang" value="{$lang}"/>
      <span id="feedback-q"><xsl:value-of select="stp:msg('feedback.question')"/></span>
      <xsl:text> </xsl:text>
      <button type="submit" name="answer" value="yes"><xsl:value-of select="stp:msg('feedback.yes')"/></button>
      <xsl:text> </xsl:text>
      <button type="submit" name="answer" value="no"><xsl:value-of select="stp:msg('feedback.no')"/></button>
      <xsl:text> · </xsl:text>
      <a href="/stp/feedback?lang={$lang}&amp;page={substring-before(concat(/page/@return, '%3F'), '%3F')}"><xsl:value-of select="stp:msg('feedback.link')"/></a>
    </form>
  </xsl:template>

  <!-- /stp/feedback: the form (mode new), the same answer to confirm with a token (confirm), or
       the thanks, with the offer of a comment after an answer (thanks with @ref). -->
  <xsl:template match="feedback">
    <h1><xsl:value-of select="/page/title"/></h1>
    <xsl:if test="@mode = 'thanks'"><p class="notice" role="status"><xsl:value-of select="stp:msg('feedback.thanks')"/></p></xsl:if>
    <xsl:if test="@mode = 'confirm'"><p class="notice" role="status"><xsl:value-of select="stp:msg('feedback.confirm')"/></p></xsl:if>
    <xsl:if test="@form = 'yes'">
      <form class="feedback-form" method="post" action="/stp/feedback">
        <xsl:if test="@csrf"><input type="hidden" name="csrf" value="{@csrf}"/></xsl:if>
        <input type="hidden" name="lang" value="{$lang}"/>
        <xsl:choose>
          <xsl:when test="@ref">
            <input type="hidden" name="ref" value="{@ref}"/>
            <input type="hidden" name="page" value="{@page}"/>
            <p><label for="fb-comment"><xsl:value-of select="stp:msg('feedback.more')"/></label></p>
          </xsl:when>
          <xsl:otherwise>
            <p>
              <label for="fb-page"><xsl:value-of select="stp:msg('feedback.page')"/></label><xsl:text> </xsl:text>
              <input id="fb-page" type="text" name="page" value="{@page}" maxlength="1024" required="required" dir="ltr"/>
            </p>
            <fieldset>
              <legend><xsl:value-of select="stp:msg('feedback.question')"/></legend>
              <xsl:call-template name="feedback-answer"><xsl:with-param name="value">yes</xsl:with-param></xsl:call-template>
              <xsl:call-template name="feedback-answer"><xsl:with-param name="value">no</xsl:with-param></xsl:call-template>
              <xsl:call-template name="feedback-answer"><xsl:with-param name="value"></xsl:with-param></xsl:call-template>
            </fieldset>
            <p><label for="fb-comment"><xsl:value-of select="stp:msg('feedback.comment')"/></label></p>
          </xsl:otherwise>
        </xsl:choose>
        <p><textarea id="fb-comment" name="comment" rows="6" cols="60" maxlength="2000" aria-describedby="fb-privacy"><xsl:value-of select="comment"/></textarea></p>
        <p id="fb-privacy" class="meta"><xsl:value-of select="stp:msg('feedback.privacy')"/></p>
        <button type="submit"><xsl:value-of select="stp:msg('feedback.send')"/></button>
      </form>
    </xsl:if>
    <xsl:if test="@page != ''"><p><a href="{@page}"><xsl:value-of select="stp:msg('feedback.back')"/></a></p></xsl:if>
  </xsl:template>

  <xsl:template name="feedback-answer">
    <xsl:param name="value"/>
    <label class="choice">
      <input type="radio" name="answer" value="{$value}">
        <xsl:if test="string(@answer) = $value"><xsl:attribute name="checked">checked</xsl:attribute></xsl:if>
      </input>
      <xsl:text> </xsl:text>
      <xsl:value-of select="stp:msg(concat('feedback.answer.', substring('none', 1, 4 * ($value = '')), $value))"/>
    </label>
  </xsl:template>

  <xsl:template name="signout">
    <form class="signout" method="post" action="/stp/logout">
      <input type="hidden" name="csrf" value="{/page/user/@csrf}"/>
      <button type="submit"><xsl:value-of select="stp:msg('nav.signout')"/></button>
    </form>
  </xsl:template>

  <!-- Errors: 400, 403, 404, 405, 410, 500, 503, the page for personal accounts and the 403 of a
       document's requirements (which names them). -->
  <xsl:template match="error">
    <h1><xsl:value-of select="/page/title"/></h1>
    <p><xsl:value-of select="stp:msg(@body)"/></p>
    <xsl:if test="requires/*"><p class="requires"><xsl:call-template name="requires"/></p></xsl:if>
    <xsl:if test="contacts">
      <!-- An unlisted member: whom to ask. -->
      <xsl:choose>
        <xsl:when test="contacts/contact">
          <p><xsl:value-of select="stp:msg('unlisted.contacts')"/></p>
          <ul class="contacts">
            <xsl:for-each select="contacts/contact"><li><a href="mailto:{.}"><xsl:value-of select="."/></a></li></xsl:for-each>
          </ul>
        </xsl:when>
        <xsl:otherwise><p><xsl:value-of select="stp:msg('unlisted.nocontacts')"/></p></xsl:otherwise>
      </xsl:choose>
    </xsl:if>
    <xsl:if test="link">
      <ul class="actions">
        <xsl:for-each select="link"><li><a href="{@href}"><xsl:value-of select="stp:msg(@key)"/></a></li></xsl:for-each>
      </ul>
    </xsl:if>
    <xsl:if test="@signout = 'yes' and /page/user/@csrf">
      <xsl:call-template name="signout-as">
        <xsl:with-param name="label" select="stp:msg('account.switch')"/>
      </xsl:call-template>
    </xsl:if>
    <p><a href="/{$lang}/"><xsl:value-of select="stp:msg('nav.home')"/></a></p>
  </xsl:template>

  <xsl:template name="signout-as">
    <xsl:param name="label"/>
    <form class="signout" method="post" action="/stp/logout">
      <input type="hidden" name="csrf" value="{/page/user/@csrf}"/>
      <button type="submit"><xsl:value-of select="$label"/></button>
    </form>
  </xsl:template>

  <!-- The NDA: the agreement (HTML that sitegen rendered from Markdown), then accept; or, once
       accepted, the confirmation with the way back. -->
  <xsl:template match="nda">
    <h1><xsl:value-of select="/page/title"/></h1>
    <xsl:choose>
      <xsl:when test="@accepted = 'yes'">
        <p class="notice" role="status">
          <xsl:choose>
            <xsl:when test="@just = 'yes'"><xsl:value-of select="stp:msg('nda.accepted', 'version', @version)"/></xsl:when>
            <xsl:otherwise><xsl:value-of select="stp:msg('nda.already')"/></xsl:otherwise>
          </xsl:choose>
        </p>
        <xsl:if test="document">
          <p><xsl:value-of select="stp:msg('nda.download.starting')"/></p>
          <ul class="actions">
            <li><a href="{document/@download}"><xsl:value-of select="stp:msg('nda.download.now', 'document', document)"/></a></li>
            <li><a href="{document/@href}"><xsl:value-of select="stp:msg('nda.back', 'document', document)"/></a></li>
          </ul>
        </xsl:if>
        <details>
          <summary><xsl:value-of select="stp:msg('nda.read')"/></summary>
          <div class="nda"><xsl:if test="text/@lang"><xsl:attribute name="lang"><xsl:value-of select="text/@lang"/></xsl:attribute><xsl:attribute name="dir">auto</xsl:attribute></xsl:if><xsl:apply-templates select="text/node()" mode="body"/></div>
        </details>
      </xsl:when>
      <xsl:otherwise>
        <xsl:if test="document">
          <p class="pending"><xsl:value-of select="stp:msg('nda.pending', 'document', document)"/></p>
        </xsl:if>
        <p class="meta"><xsl:value-of select="stp:msg('nda.version')"/>: <xsl:value-of select="@version"/></p>
        <div class="nda"><xsl:if test="text/@lang"><xsl:attribute name="lang"><xsl:value-of select="text/@lang"/></xsl:attribute><xsl:attribute name="dir">auto</xsl:attribute></xsl:if><xsl:apply-templates select="text/node()" mode="body"/></div>
        <form method="post" action="/stp/nda">
          <input type="hidden" name="csrf" value="{@csrf}"/>
          <input type="hidden" name="version" value="{@version}"/>
          <input type="hidden" name="return" value="{@return}"/>
          <input type="hidden" name="lang" value="{$lang}"/>
          <button type="submit"><xsl:value-of select="stp:msg('nda.accept')"/></button>
        </form>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- My Library: one form, a remove button per entry (name="doc"), so that a page of many entries
       carries one token and few nodes; stp.js turns the buttons into in-place toggles. The module
       gives either the entries, or their count (@entries) and the entries rendered alone (page
       kind "items" below), which it splices where the processing instruction stp-items stands
       (docs/architecture.md, "Library entries"). -->
  <xsl:template match="library">
    <h1><xsl:value-of select="/page/title"/></h1>
    <p><a href="/stp/notifications?lang={$lang}"><xsl:value-of select="stp:msg('notifications.title')"/></a></p>
    <xsl:choose>
      <xsl:when test="entry or @entries &gt; 0">
        <form class="library" method="post" action="/stp/library" data-add="{stp:msg('library.save')}" data-remove="{stp:msg('library.remove')}">
          <input type="hidden" name="csrf" value="{@csrf}"/>
          <input type="hidden" name="action" value="remove"/>
          <input type="hidden" name="return" value="{@return}"/>
          <ol class="docs library">
            <xsl:apply-templates select="entry" mode="library"/>
            <xsl:if test="@entries"><xsl:processing-instruction name="stp-items"/></xsl:if>
          </ol>
        </form>
      </xsl:when>
      <xsl:otherwise><p class="empty"><xsl:value-of select="stp:msg('library.empty')"/></p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="entry" mode="library">
    <li class="doc">
      <a class="title" href="{@href}"><xsl:value-of select="."/></a>
      <xsl:if test="@changed = 'yes'">
        <xsl:text> </xsl:text><span class="badge badge-changed"><xsl:value-of select="stp:msg('library.changed')"/></span>
      </xsl:if>
      <xsl:if test="@expired = 'yes'">
        <xsl:text> </xsl:text><span class="badge badge-expired"><xsl:value-of select="stp:msg('validity.expired')"/></span>
      </xsl:if>
      <p class="meta">
        <xsl:value-of select="stp:msg('library.version')"/>: <xsl:value-of select="@version"/>
        <xsl:text> · </xsl:text><xsl:value-of select="stp:msg('library.published')"/>:
                  <time datetime="{@published}"><xsl:value-of select="@published"/></time>
        <xsl:text> · </xsl:text><a href="{@download}"><xsl:value-of select="stp:msg('doc.download')"/></a>
      </p>
      <button type="submit" name="doc" value="{@id}" aria-pressed="true"><xsl:value-of select="stp:msg('library.remove')"/></button>
    </li>
  </xsl:template>

  <!-- Items rendered alone, each top-level node of the result one item: My Library's entries,
       which the module renders once per build, language and variant, and splices. -->
  <xsl:template match="/page[@kind = 'items']" priority="2">
    <xsl:apply-templates select="library/entry" mode="library"/>
    <xsl:apply-templates select="preview-bar"/>
  </xsl:template>

  <!-- The editor's preview bar (StpPreview, development only), put at the top of every page of the
       preview: in English, the editor's tool, whatever the page's language. -->
  <xsl:template match="preview-bar">
    <div id="stp-preview" class="stp-preview" data-build="{@build}" role="region" aria-label="Preview" lang="en" dir="ltr">
      <form method="post" action="/stp/preview">
        <strong>Preview</strong>
        <xsl:text> </xsl:text>
        <label>View as <select name="as"><xsl:apply-templates select="as" mode="preview"/></select></label>
        <xsl:text> </xsl:text>
        <label><input type="checkbox" name="nda" value="1"><xsl:if test="@nda"><xsl:attribute name="checked">checked</xsl:attribute></xsl:if></input> NDA accepted</label>
        <xsl:text> </xsl:text>
        <label>Language <select name="lang"><xsl:apply-templates select="lang" mode="preview"/></select></label>
        <input type="hidden" name="return" value="{@here}"/>
        <input type="hidden" name="csrf" value="{@csrf}"/>
        <xsl:text> </xsl:text>
        <button type="submit">Apply</button>
        <xsl:text> </xsl:text>
        <span class="stp-preview-build">build <xsl:value-of select="@build"/><xsl:if test="@failed"> (failed)</xsl:if></span>
      </form>
      <xsl:if test="@failed">
        <div class="stp-preview-errors" role="alert"><p>The last build failed; this is the build before it. Fix these and save:</p><pre><xsl:value-of select="errors"/></pre></div>
      </xsl:if>
    </div>
  </xsl:template>

  <xsl:template match="as | lang" mode="preview">
    <option value="{@value}"><xsl:if test="@selected"><xsl:attribute name="selected">selected</xsl:attribute></xsl:if><xsl:value-of select="@label"/></option>
  </xsl:template>

  <!-- A signed-in user's "Save" from a static page without JavaScript: confirm once. -->
  <xsl:template match="confirm">
    <h1><xsl:value-of select="/page/title"/></h1>
    <p><xsl:value-of select="stp:msg('library.confirm', 'document', .)"/></p>
    <form method="post" action="/stp/library">
      <input type="hidden" name="csrf" value="{@csrf}"/>
      <input type="hidden" name="action" value="add"/>
      <input type="hidden" name="doc" value="{@doc}"/>
      <input type="hidden" name="return" value="{@return}"/>
      <button type="submit"><xsl:value-of select="stp:msg('library.save')"/></button>
    </form>
  </xsl:template>

  <xsl:template match="notifications">
    <h1><xsl:value-of select="/page/title"/></h1>
    <xsl:if test="@saved = 'yes'">
      <p class="notice" role="status"><xsl:value-of select="stp:msg('notifications.saved')"/></p>
    </xsl:if>
    <p><xsl:value-of select="stp:msg('notifications.intro')"/></p>
    <form method="post" action="/stp/notifications">
      <input type="hidden" name="csrf" value="{@csrf}"/>
      <input type="hidden" name="lang" value="{$lang}"/>
      <p>
        <label for="freq"><xsl:value-of select="stp:msg('notifications.frequency')"/></label><xsl:text> </xsl:text>
        <select id="freq" name="frequency">
          <xsl:for-each select="frequency">
            <option value="{@value}"><xsl:if test="@selected = 'yes'"><xsl:attribute name="selected">selected</xsl:attribute></xsl:if><xsl:value-of select="stp:msg(concat('notifications.freq.', @value))"/></option>
          </xsl:for-each>
        </select>
      </p>
      <p>
        <label for="address"><xsl:value-of select="stp:msg('notifications.address')"/></label><xsl:text> </xsl:text>
        <input id="address" name="address" type="email" size="40" value="{address}">
          <xsl:if test="address/@error"><xsl:attribute name="aria-invalid">true</xsl:attribute><xsl:attribute name="aria-describedby">address-error</xsl:attribute></xsl:if>
        </input>
        <xsl:if test="address/@error">
          <span class="error" id="address-error" role="alert"><xsl:value-of select="stp:msg(address/@error, 'domains', address/@domains)"/></span>
        </xsl:if>
      </p>
      <p>
        <label for="locale"><xsl:value-of select="stp:msg('notifications.language')"/></label><xsl:text> </xsl:text>
        <select id="locale" name="locale">
          <xsl:for-each select="locale">
            <option value="{@id}" lang="{@id}"><xsl:if test="@selected = 'yes'"><xsl:attribute name="selected">selected</xsl:attribute></xsl:if><xsl:value-of select="."/></option>
          </xsl:for-each>
        </select>
      </p>
      <p><button type="submit"><xsl:value-of select="stp:msg('notifications.save')"/></button></p>
    </form>
    <p><a href="/stp/library?lang={$lang}"><xsl:value-of select="stp:msg('library.title')"/></a></p>
  </xsl:template>

  <!-- Who you are, your organisation, your NDA status, and sign out: the header's information
       without JavaScript. -->
  <xsl:template match="account">
    <h1><xsl:value-of select="/page/title"/></h1>
    <xsl:choose>
      <xsl:when test="/page/user">
        <dl class="details">
          <dt><xsl:value-of select="stp:msg('account.name')"/></dt><dd><xsl:value-of select="/page/user/@name"/></dd>
          <xsl:if test="@email"><dt><xsl:value-of select="stp:msg('account.email')"/></dt><dd><xsl:value-of select="@email"/></dd></xsl:if>
          <dt><xsl:value-of select="stp:msg('account.org')"/></dt>
          <dd><xsl:choose><xsl:when test="/page/user/@org"><xsl:value-of select="/page/user/@org"/></xsl:when><xsl:otherwise><xsl:value-of select="stp:msg('account.personal')"/></xsl:otherwise></xsl:choose></dd>
          <dt><xsl:value-of select="stp:msg('account.kind')"/></dt><dd><xsl:value-of select="stp:msg(concat('account.kind.', /page/user/@kind))"/></dd>
          <xsl:if test="@nda-version">
            <dt><xsl:value-of select="stp:msg('nda.title')"/></dt>
            <dd>
              <xsl:choose>
                <xsl:when test="@nda-accepted = 'yes'"><xsl:value-of select="stp:msg('account.nda.accepted', 'version', @nda-version)"/></xsl:when>
                <xsl:when test="/page/user/@org"><a href="/stp/nda?lang={$lang}"><xsl:value-of select="stp:msg('account.nda.pending', 'version', @nda-version)"/></a></xsl:when>
                <xsl:otherwise><xsl:value-of select="stp:msg('account.nda.personal')"/></xsl:otherwise>
              </xsl:choose>
            </dd>
          </xsl:if>
        </dl>
        <ul class="actions">
          <li><a href="/stp/library?lang={$lang}"><xsl:value-of select="stp:msg('library.title')"/></a></li>
          <li><a href="/stp/notifications?lang={$lang}"><xsl:value-of select="stp:msg('notifications.title')"/></a></li>
          <xsl:if test="/page/user/@org"><li><a href="/{$lang}/org/"><xsl:value-of select="stp:msg('org.title')"/></a></li></xsl:if>
          <xsl:if test="/page/user/@kind = 'tenant-admin' or /page/user/@staff = 'yes'"><li><a href="/stp/admin?lang={$lang}"><xsl:value-of select="stp:msg('nav.admin')"/></a></li></xsl:if>
        </ul>
        <xsl:call-template name="signout"/>
      </xsl:when>
      <xsl:otherwise>
        <p><xsl:value-of select="stp:msg('account.anonymous')"/></p>
        <p><a href="/stp/login?lang={$lang}&amp;return=%2Fstp%2Faccount%3Flang%3D{$lang}"><xsl:value-of select="stp:msg('nav.signin')"/></a></p>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- An organisation's settings (/stp/admin): plain forms, each with its own action, that work
       without JavaScript. Controls appear only where the change would be allowed. -->
  <xsl:template match="admin">
    <h1><xsl:value-of select="/page/title"/></h1>
    <xsl:choose>
      <xsl:when test="orgs">
        <h2><xsl:value-of select="stp:msg('admin.orgs.title')"/></h2>
        <ul class="orgs">
          <xsl:for-each select="orgs/org">
            <li><a href="/stp/admin?lang={$lang}&amp;tenant={@id}"><xsl:value-of select="."/></a></li>
          </xsl:for-each>
        </ul>
        <form method="get" action="/stp/admin">
          <input type="hidden" name="lang" value="{$lang}"/>
          <p>
            <label for="tenant"><xsl:value-of select="stp:msg('admin.orgs.other')"/></label><xsl:text> </xsl:text>
            <input id="tenant" name="tenant" size="30" maxlength="256" required="required"/><xsl:text> </xsl:text>
            <button type="submit"><xsl:value-of select="stp:msg('admin.orgs.open')"/></button>
          </p>
        </form>
      </xsl:when>
      <xsl:otherwise>
        <xsl:apply-templates select="." mode="settings"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="admin" mode="settings">
    <xsl:variable name="csrf" select="@csrf"/>
    <xsl:variable name="tenant" select="@tenant"/>
    <p><xsl:value-of select="stp:msg('admin.intro', 'org', @org)"/></p>
    <xsl:if test="@staff = 'yes'"><p class="notice"><xsl:value-of select="stp:msg('admin.staff')"/></p></xsl:if>
    <xsl:if test="@done = 'yes'"><p class="notice" role="status"><xsl:value-of select="stp:msg('admin.saved')"/></p></xsl:if>
    <xsl:if test="problem"><p class="error" role="alert" id="problem"><xsl:value-of select="stp:msg(problem/@key, 'arg', problem/@arg)"/></p></xsl:if>

    <section aria-labelledby="relevance">
      <h2 id="relevance"><xsl:value-of select="stp:msg('admin.relevance.title')"/></h2>
      <p><xsl:value-of select="stp:msg('admin.relevance.intro')"/></p>
      <form method="post" action="/stp/admin" id="stp-admin-settings">
        <input type="hidden" name="csrf" value="{$csrf}"/>
        <input type="hidden" name="action" value="settings"/>
        <input type="hidden" name="tenant" value="{$tenant}"/>
        <input type="hidden" name="lang" value="{$lang}"/>
        <fieldset>
          <legend><xsl:value-of select="stp:msg('admin.industries')"/></legend>
          <xsl:for-each select="industries/term">
            <label class="check"><input type="checkbox" name="industry" value="{@id}"><xsl:if test="@checked = 'yes'"><xsl:attribute name="checked">checked</xsl:attribute></xsl:if></input><xsl:text> </xsl:text><xsl:value-of select="."/></label>
          </xsl:for-each>
        </fieldset>
        <fieldset>
          <legend><xsl:value-of select="stp:msg('admin.regions')"/></legend>
          <xsl:for-each select="regions/term">
            <label class="check"><input type="checkbox" name="region" value="{@id}"><xsl:if test="@checked = 'yes'"><xsl:attribute name="checked">checked</xsl:attribute></xsl:if></input><xsl:text> </xsl:text><xsl:value-of select="."/></label>
          </xsl:for-each>
        </fieldset>
        <p><button type="submit"><xsl:value-of select="stp:msg('admin.save')"/></button></p>
      </form>
    </section>

    <section aria-labelledby="mode">
      <h2 id="mode"><xsl:value-of select="stp:msg('admin.mode.title')"/></h2>
      <form method="post" action="/stp/admin" id="stp-admin-mode">
        <input type="hidden" name="csrf" value="{$csrf}"/>
        <input type="hidden" name="action" value="mode"/>
        <input type="hidden" name="tenant" value="{$tenant}"/>
        <input type="hidden" name="lang" value="{$lang}"/>
        <fieldset>
          <legend><xsl:value-of select="stp:msg('admin.mode.title')"/><xsl:if test="mode/@default = 'yes'"><xsl:text> </xsl:text><xsl:value-of select="stp:msg('admin.mode.default')"/></xsl:if></legend>
          <label class="check"><input type="radio" name="mode" value="open"><xsl:if test="mode/@value = 'open'"><xsl:attribute name="checked">checked</xsl:attribute></xsl:if></input><xsl:text> </xsl:text><xsl:value-of select="stp:msg('admin.mode.open')"/></label>
          <label class="check"><input type="radio" name="mode" value="assigned"><xsl:if test="mode/@value = 'assigned'"><xsl:attribute name="checked">checked</xsl:attribute></xsl:if></input><xsl:text> </xsl:text><xsl:value-of select="stp:msg('admin.mode.assigned')"/></label>
        </fieldset>
        <p><button type="submit"><xsl:value-of select="stp:msg('admin.save')"/></button></p>
      </form>
    </section>

    <section aria-labelledby="people">
      <h2 id="people"><xsl:value-of select="stp:msg('admin.people.title')"/></h2>
      <xsl:choose>
        <xsl:when test="people/person">
          <table class="people">
            <thead><tr>
              <th scope="col"><xsl:value-of select="stp:msg('admin.people.email')"/></th>
              <th scope="col"><xsl:value-of select="stp:msg('admin.people.role')"/></th>
              <th scope="col"><xsl:value-of select="stp:msg('admin.people.since')"/></th>
              <th scope="col"><xsl:value-of select="stp:msg('admin.people.by')"/></th>
            </tr></thead>
            <tbody>
              <xsl:for-each select="people/person">
                <tr data-email="{@email}" data-role="{@role}">
                  <td><xsl:value-of select="@email"/></td>
                  <td>
                    <xsl:choose>
                      <xsl:when test="@editable = 'yes'">
                        <form method="post" action="/stp/admin" class="inline">
                          <input type="hidden" name="csrf" value="{$csrf}"/>
                          <input type="hidden" name="action" value="role"/>
                          <input type="hidden" name="tenant" value="{$tenant}"/>
                          <input type="hidden" name="email" value="{@email}"/>
                          <select name="role" aria-label="{stp:msg('admin.role.label', 'email', @email)}">
                            <xsl:if test="../../@manage-admins = 'yes'">
                              <option value="portal-admin"><xsl:if test="@role = 'portal-admin'"><xsl:attribute name="selected">selected</xsl:attribute></xsl:if><xsl:value-of select="stp:msg('admin.role.portal-admin')"/></option>
                            </xsl:if>
                            <option value="portal-user"><xsl:if test="@role = 'portal-user'"><xsl:attribute name="selected">selected</xsl:attribute></xsl:if><xsl:value-of select="stp:msg('admin.role.portal-user')"/></option>
                          </select>
                          <xsl:text> </xsl:text>
                          <button type="submit"><xsl:value-of select="stp:msg('admin.change')"/></button>
                        </form>
                        <form method="post" action="/stp/admin" class="inline">
                          <input type="hidden" name="csrf" value="{$csrf}"/>
                          <input type="hidden" name="action" value="revoke"/>
                          <input type="hidden" name="tenant" value="{$tenant}"/>
                          <input type="hidden" name="email" value="{@email}"/>
                          <button type="submit" aria-label="{stp:msg('admin.revoke.label', 'email', @email)}"><xsl:value-of select="stp:msg('admin.revoke')"/></button>
                        </form>
                      </xsl:when>
                      <xsl:otherwise>
                        <xsl:value-of select="stp:msg(concat('admin.role.', @role))"/>
                        <xsl:if test="@role = 'administrator'"><br/><small><xsl:value-of select="stp:msg('admin.people.fixed')"/></small></xsl:if>
                      </xsl:otherwise>
                    </xsl:choose>
                  </td>
                  <td><xsl:value-of select="@since"/></td>
                  <td><xsl:value-of select="@by"/></td>
                </tr>
              </xsl:for-each>
            </tbody>
          </table>
        </xsl:when>
        <xsl:otherwise><p><xsl:value-of select="stp:msg('admin.people.none')"/></p></xsl:otherwise>
      </xsl:choose>
      <h3><xsl:value-of select="stp:msg('admin.add.title')"/></h3>
      <form method="post" action="/stp/admin" id="stp-admin-add">
        <input type="hidden" name="csrf" value="{$csrf}"/>
        <input type="hidden" name="action" value="add"/>
        <input type="hidden" name="tenant" value="{$tenant}"/>
        <input type="hidden" name="lang" value="{$lang}"/>
        <p>
          <label for="add-email"><xsl:value-of select="stp:msg('admin.people.email')"/></label><xsl:text> </xsl:text>
          <input id="add-email" name="email" type="email" size="40" maxlength="254" required="required" aria-describedby="add-domains"/>
          <xsl:text> </xsl:text>
          <label for="add-role"><xsl:value-of select="stp:msg('admin.people.role')"/></label><xsl:text> </xsl:text>
          <select id="add-role" name="role">
            <option value="portal-user"><xsl:value-of select="stp:msg('admin.role.portal-user')"/></option>
            <xsl:if test="@manage-admins = 'yes'"><option value="portal-admin"><xsl:value-of select="stp:msg('admin.role.portal-admin')"/></option></xsl:if>
          </select>
          <xsl:text> </xsl:text>
          <button type="submit"><xsl:value-of select="stp:msg('admin.add.button')"/></button>
        </p>
        <p id="add-domains" class="hint">
          <xsl:value-of select="stp:msg('admin.domains', 'domains', domains/@text)"/>
        </p>
      </form>
    </section>

    <section aria-labelledby="audit-title" id="audit">
      <h2 id="audit-title"><xsl:value-of select="stp:msg('admin.log.title')"/></h2>
      <xsl:choose>
        <xsl:when test="log/change">
          <table class="log">
            <thead><tr>
              <th scope="col"><xsl:value-of select="stp:msg('admin.log.when')"/></th>
              <th scope="col"><xsl:value-of select="stp:msg('admin.log.who')"/></th>
              <th scope="col"><xsl:value-of select="stp:msg('admin.log.what')"/></th>
              <th scope="col"><xsl:value-of select="stp:msg('admin.log.before')"/></th>
              <th scope="col"><xsl:value-of select="stp:msg('admin.log.after')"/></th>
            </tr></thead>
            <tbody>
              <xsl:for-each select="log/change">
                <tr>
                  <td><xsl:value-of select="@when"/></td>
                  <td><xsl:value-of select="@who"/></td>
                  <td><xsl:value-of select="stp:msg(concat('admin.action.', @action), 'subject', @subject)"/></td>
                  <td dir="ltr"><xsl:value-of select="@before"/></td>
                  <td dir="ltr"><xsl:value-of select="@after"/></td>
                </tr>
              </xsl:for-each>
            </tbody>
          </table>
        </xsl:when>
        <xsl:otherwise><p><xsl:value-of select="stp:msg('admin.log.empty')"/></p></xsl:otherwise>
      </xsl:choose>
    </section>
  </xsl:template>

  <!-- Search: the form (text, filters with their counts, sort) works without JavaScript; the
       results come from the module, already limited to what the reader may see. -->
  <xsl:template match="search">
    <h1><xsl:value-of select="/page/title"/></h1>
    <form class="search" method="get" action="/stp/search">
      <input type="hidden" name="lang" value="{$lang}"/>
      <!-- The filters as the user leaves them, none included: not the organisation's preset again. -->
      <xsl:if test="@org = 'yes'"><input type="hidden" name="all" value="1"/></xsl:if>
      <p class="search-text">
        <label for="search-q"><xsl:value-of select="stp:msg('search.label')"/></label>
        <input id="search-q" type="search" name="q" value="{@q}" maxlength="256"/>
        <button type="submit"><xsl:value-of select="stp:msg('search.button')"/></button>
      </p>
      <xsl:if test="@sort = 'date'"><input type="hidden" name="sort" value="date"/></xsl:if>
      <div class="search-grid">
      <div class="facets">
        <xsl:for-each select="facet[value]">
          <fieldset class="facet">
            <legend><xsl:value-of select="stp:msg(concat('search.facet.', @name))"/></legend>
            <ul>
              <xsl:for-each select="value">
                <li>
                  <label>
                    <input type="checkbox" name="{../@name}" value="{@id}">
                      <xsl:if test="@selected = 'yes'"><xsl:attribute name="checked">checked</xsl:attribute></xsl:if>
                    </input>
                    <xsl:text> </xsl:text><xsl:value-of select="."/><xsl:text> </xsl:text>
                    <span class="count">(<xsl:value-of select="@count"/>)</span>
                  </label>
                </li>
              </xsl:for-each>
            </ul>
          </fieldset>
        </xsl:for-each>
        <xsl:if test="facet/value"><p><button type="submit"><xsl:value-of select="stp:msg('search.apply')"/></button></p></xsl:if>
      </div>
      <div class="search-main">
    <xsl:if test="@preset = 'yes'">
      <p class="notice" id="org-preset"><xsl:value-of select="stp:msg('search.org.preset')"/><xsl:text> </xsl:text><a href="{@clear}"><xsl:value-of select="stp:msg('search.org.clear')"/></a></p>
    </xsl:if>
    <xsl:if test="@clear">
      <ul class="chips" aria-label="{stp:msg('search.filters')}">
        <xsl:for-each select="facet/value[@selected = 'yes']">
          <li><a href="{@clear}" aria-label="{stp:msg('search.clear.one', 'label', .)}"><xsl:value-of select="."/> ×</a></li>
        </xsl:for-each>
        <li><a href="{@clear}"><xsl:value-of select="stp:msg('search.clear')"/></a></li>
      </ul>
    </xsl:if>
    <section class="results" aria-labelledby="results-h">
      <h2 id="results-h">
        <xsl:choose>
          <xsl:when test="@total = 1"><xsl:value-of select="stp:msg('search.results.one')"/></xsl:when>
          <xsl:otherwise><xsl:value-of select="stp:msg('search.results', 'n', @total)"/></xsl:otherwise>
        </xsl:choose>
      </h2>
      <xsl:choose>
        <xsl:when test="results/doc">
          <p class="sort">
            <xsl:value-of select="stp:msg('search.sort')"/><xsl:text>: </xsl:text>
            <xsl:choose>
              <xsl:when test="@sort = 'date'">
                <a href="{@by-relevance}"><xsl:value-of select="stp:msg('search.sort.relevance')"/></a>
                <xsl:text> · </xsl:text><strong><xsl:value-of select="stp:msg('search.sort.date')"/></strong>
              </xsl:when>
              <xsl:otherwise>
                <strong><xsl:value-of select="stp:msg('search.sort.relevance')"/></strong>
                <xsl:text> · </xsl:text><a href="{@by-date}"><xsl:value-of select="stp:msg('search.sort.date')"/></a>
              </xsl:otherwise>
            </xsl:choose>
          </p>
          <ol class="docs results">
            <xsl:for-each select="results/doc">
              <li class="doc">
                <a class="title" href="{@href}" dir="auto"><xsl:value-of select="title"/></a>
                <xsl:text> </xsl:text>
                <xsl:call-template name="badge"/>
                <p class="meta">
                  <time datetime="{published/@iso}"><xsl:value-of select="published"/></time>
                  <xsl:if test="category"><xsl:text> · </xsl:text><xsl:value-of select="category"/></xsl:if>
                  <xsl:text> · </xsl:text><a href="{@download}"><xsl:value-of select="stp:msg('doc.download')"/></a>
                </p>
                <xsl:if test="snippet/m">
                  <p class="snippet" dir="auto"><xsl:for-each select="snippet/node()">
                    <xsl:choose>
                      <xsl:when test="self::m"><mark><xsl:value-of select="."/></mark></xsl:when>
                      <xsl:otherwise><xsl:value-of select="."/></xsl:otherwise>
                    </xsl:choose>
                  </xsl:for-each></p>
                </xsl:if>
                <p class="summary" dir="auto"><xsl:value-of select="summary"/></p>
              </li>
            </xsl:for-each>
          </ol>
          <xsl:if test="pages/p[2]">
            <nav class="pages" aria-label="{stp:msg('search.pages')}">
              <ul>
                <xsl:if test="pages/@prev"><li><a href="{pages/@prev}" rel="prev"><xsl:value-of select="stp:msg('search.prev')"/></a></li></xsl:if>
                <xsl:for-each select="pages/p">
                  <li>
                    <xsl:if test="preceding-sibling::p[1] and . - preceding-sibling::p[1] &gt; 1"><xsl:text>… </xsl:text></xsl:if>
                    <a href="{@href}" aria-label="{stp:msg('search.page', 'n', .)}">
                      <xsl:if test="@current = 'yes'"><xsl:attribute name="aria-current">page</xsl:attribute></xsl:if>
                      <xsl:value-of select="."/>
                    </a>
                  </li>
                </xsl:for-each>
                <xsl:if test="pages/@next"><li><a href="{pages/@next}" rel="next"><xsl:value-of select="stp:msg('search.next')"/></a></li></xsl:if>
              </ul>
            </nav>
          </xsl:if>
        </xsl:when>
        <xsl:when test="@clear"><p class="empty"><xsl:value-of select="stp:msg('search.none.filters')"/></p></xsl:when>
        <xsl:otherwise><p class="empty"><xsl:value-of select="stp:msg('search.none')"/></p></xsl:otherwise>
      </xsl:choose>
    </section>
      </div>
      </div>
    </form>
  </xsl:template>

  <xsl:template name="terms">
    <xsl:param name="list"/>
    <xsl:param name="key"/>
    <xsl:param name="param"/>
    <xsl:if test="$list/term">
      <dt><xsl:value-of select="stp:msg($key)"/></dt>
      <dd>
        <xsl:for-each select="$list/term">
          <xsl:if test="position() &gt; 1"><xsl:text>, </xsl:text></xsl:if>
          <a href="/stp/search?lang={$lang}&amp;{$param}={@id}"><xsl:value-of select="."/></a>
        </xsl:for-each>
      </dd>
    </xsl:if>
  </xsl:template>

  <!-- Bodies: the page's title is its only h1. Markdown headings arrive one level down already
       (sg_markdown: # is h2, ## h3); an h1 can only be raw HTML (unsafe-html), and becomes an h2. -->
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
