package OmadmTest::Libwbxml;

# A second, independent WBXML codec for the tests: Debian's libwbxml2
# (libwbxml 0.11.8, the command-line tools of libwbxml2-utils) and an
# independent XML reader (XML::LibXML, libxml-libxml-perl) to compare what
# it decodes with what another decoder saw.  Neither shares code or tables
# with the module or with OmadmTest::WBXML.
#
#   wbxml2xml($bytes, @options)    the XML libwbxml2 decodes (compact)
#   xml2wbxml($xml, @options)      the WBXML libwbxml2 encodes
#   canonical($xml)                the document as "path = text" lines
#   http($http_tiny, @options)     like OmadmTest::WBXML::http, libwbxml2
#                                  both ways
#
# What libwbxml2 does with SyncML DM (found by these tests, see
# t/wbxml_libwbxml2.t for the checks):
# * Language: from the public id (0x0FD3 SyncML 1.1, 0x1201 SyncML 1.2,
#   or the FPI through the string table); `wbxml2xml -l SYNCML11|SYNCML12`
#   overrides it, root namespace and DOCTYPE included, whatever the
#   document says.  xml2wbxml picks it from the root's xmlns.
# * wbxml2xml always writes a DOCTYPE with the SyncML FPI and the DTD URL,
#   puts xmlns="syncml:metinf" on every code page 1 element, and writes the
#   Data of an Add/Replace Item as a CDATA section (its "vObject" rule,
#   made for SyncML DS vCards) whatever the token (STR_I or OPAQUE).  Such
#   a CDATA section is not escaped: Data containing "]]>" comes out as
#   malformed XML (a libwbxml2 bug; canonical() dies on it).
# * xml2wbxml emits WBXML 1.3 unless -v, and a string table unless -n.
#   Add/Replace Item Data goes as OPAQUE with every LF turned into CRLF
#   (the same vObject rule); other Data as STR_I.  Leading and trailing
#   blanks of every other text are stripped; with -k they are kept, and so
#   is the whitespace between elements, as STR_I text inside containers.
#   An embedded DevInf or DM DDF MgmtTree (in its namespace) in Data
#   becomes a nested WBXML document in OPAQUE, which wbxml2xml cannot read
#   back; other markup in Data becomes elements (LITERAL where there is no
#   token), and an element of a foreign namespace loses it (WBXML has no
#   namespaces): it reads as an unknown SyncML element.
# * -v 1.0 writes a charset byte, which a WBXML 1.0 header does not have
#   (libwbxml2's own decoder then misreads it, as the module refuses it).
# * libwbxml2's SyncML 1.1 table stops at MoreData (0x34) plus
#   SourceParent (0x39): a 1.1 document with a DM 1.2 token (Correlator
#   0x3C, ...) decodes to <unknown>.  The module never sends Correlator in
#   DM 1.1.

use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);

our @EXPORT_OK = qw(available wbxml2xml xml2wbxml canonical);

my $TMP;

# Why the tools cannot be used (undef when they can).
sub missing {
    for my $tool (qw(wbxml2xml xml2wbxml)) {
        return "$tool not installed (libwbxml2-utils; make deps)"
            unless grep { -x "$_/$tool" } split /:/, $ENV{PATH} // '';
    }
    return "XML::LibXML not installed (libxml-libxml-perl; make deps)"
        unless eval { require XML::LibXML; 1 };
    return undef;
}

sub available { !defined missing() }

sub _tmp { $TMP //= tempdir('omadm-libwbxml-XXXXXX', TMPDIR => 1, CLEANUP => 1) }

sub _file {
    my ($path, $content) = @_;
    if (defined $content) {
        open my $fh, '>:raw', $path or die "$path: $!\n";
        print $fh $content;
        close $fh or die "$path: $!\n";
        return;
    }
    open my $fh, '<:raw', $path or die "$path: $!\n";
    local $/;
    return scalar <$fh>;
}

# Runs one of the tools from file to file (they print "... succeeded" on
# stdout when writing to stdout, so never "-o -").  Dies with what it said.
my $n = 0;
sub _run {
    my ($tool, $input, @opts) = @_;
    my $base = _tmp() . '/' . ++$n;
    _file("$base.in", $input);
    my $pid = open(my $fh, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        exec $tool, @opts, '-o', "$base.out", "$base.in" or POSIX::_exit(127);
    }
    local $/;
    my $said = <$fh> // '';
    close $fh;
    die "$tool @opts failed ($?): $said\n" if $? || !-e "$base.out";
    return _file("$base.out");
}

# The XML libwbxml2 decodes from WBXML bytes (-m 0: no indentation added).
sub wbxml2xml { my ($w, @o) = @_; return _run('wbxml2xml', $w, '-m', 0, @o) }

# The WBXML libwbxml2 encodes from XML text (e.g. '-v', '1.2', '-n', '-k').
sub xml2wbxml { my ($x, @o) = @_; return _run('xml2wbxml', $x, @o) }

# A document as plain lines, one per element, in document order:
# "SyncML{SYNCML:SYNCML1.2}", ..., "SyncML/SyncHdr/VerDTD = 1.2".  An element's namespace
# is written where it differs from its parent's; text is the element's own
# text (CDATA included, CRLF read as LF as every XML reader does), with
# leading and trailing whitespace removed; whitespace-only text between
# elements is no text.  Comments, the XML declaration and the DOCTYPE
# (never loaded) do not count.  Dies on XML that is not well-formed.
sub canonical {
    my ($xml) = @_;
    require XML::LibXML;
    my $doc = XML::LibXML->new(load_ext_dtd => 0, no_network => 1,
                               expand_entities => 0, no_blanks => 0)
        ->load_xml(string => $xml);
    my @lines;
    my $walk;
    $walk = sub {
        my ($el, $path, $parent_ns) = @_;
        my $ns = $el->namespaceURI // '';
        $path .= (defined $parent_ns ? '/' : '') . $el->localname
               . ($ns eq ($parent_ns // '') ? '' : "{$ns}");
        my $text = join '', map { $_->data }
                   grep { $_->nodeType == XML::LibXML::XML_TEXT_NODE()
                          || $_->nodeType == XML::LibXML::XML_CDATA_SECTION_NODE() }
                   $el->childNodes;
        $text =~ s/\r\n?/\n/g;
        $text =~ s/^\s+|\s+$//g;
        push @lines, length $text ? "$path = $text" : $path;
        $walk->($_, $path, $ns) for $el->childNodes->grep(sub {
            $_->nodeType == XML::LibXML::XML_ELEMENT_NODE() });
    };
    $walk->($doc->documentElement, '', undef);
    return \@lines;
}

# http($http_tiny, options => [xml2wbxml options], indent => 1): an object
# with HTTP::Tiny's post() that sends the XML content as the WBXML
# xml2wbxml makes of it (indent: of the XML indented first, as a device
# that pretty-prints would write it) and gives a WBXML answer back as the
# XML wbxml2xml makes of it, the bytes received in {raw_content}; the
# bytes sent are in last_sent.
sub http {
    my ($inner, %o) = @_;
    return bless { inner => $inner, %o }, 'OmadmTest::Libwbxml::HTTP';
}

# The same document with every element on its own indented line.
sub indented {
    my ($xml) = @_;
    require XML::LibXML;
    return XML::LibXML->load_xml(string => $xml)->toString(1);
}

package OmadmTest::Libwbxml::HTTP;

sub post {
    my ($self, $url, $args) = @_;
    my %a = %$args;
    $a{headers} = { %{ $args->{headers} || {} },
                    'Content-Type' => 'application/vnd.syncml.dm+wbxml' };
    my $xml = $self->{indent} ? OmadmTest::Libwbxml::indented($args->{content})
                              : $args->{content};
    $a{content} = OmadmTest::Libwbxml::xml2wbxml($xml,
                                                 @{ $self->{options} || [] });
    $self->{last_sent} = $a{content};
    my $res = $self->{inner}->post($url, \%a);
    $res->{raw_content} = $res->{content};
    if ($res->{status} == 200
        && ($res->{headers}{'content-type'} // '') =~ /wbxml/) {
        $res->{content} = OmadmTest::Libwbxml::wbxml2xml($res->{content});
    }
    return $res;
}

sub last_sent { $_[0]{last_sent} }

1;
