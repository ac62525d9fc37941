#!/usr/bin/perl
# The five verbs end to end: what the operator queues reaches the device
# with exactly that Meta Format/Type, Data and Correlator (and nothing it
# did not ask for), the device's status codes come back as the command's
# status and state (2xx done, anything else failed), and Data that is
# itself XML, or full of XML's special characters, travels byte-exact in
# both directions.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(encode decode);
use OmadmTest;
use OmadmTest::Device;

my $t = OmadmTest->new->start;
my $id = 'IMEI:350000000000931';
# The 240 KB Replace below is a large object (the backend hands it out by
# size): it follows the others alone, in one chunk, as this device accepts
# messages of up to 1 MB.
my $d = $t->device(id => $id, user => 'verbs', pass => 'v3rbs',
                   max_msg_size => 1048576);

my $prov = '<wap-provisioningdoc><characteristic type="x"/></wap-provisioningdoc>';
my $special = qq{&<>"' &amp; ]]> <![CDATA[x]]> \x{e9}\x{20ac}};    # chars
my $result_xml = qq{<?xml version="1.0"?><Result a="1" b='2'>x &amp; y}
               . qq{<e/><![CDATA[<raw>]]> \x{fc}</Result>};      # chars

# verb, target, queued fields, device's status code, expected state
my @cases = (
    [ Get => './DevDetail/Ext/Conf', {}, 200, 'done' ],
    [ Replace => './Vendor/MSFT/Policy/Config/X/Y',
      { format => 'int', type => 'text/plain', data => '6' }, 200, 'done' ],
    [ Add => './Vendor/Acme/NewNode', { format => 'node' }, 418, 'failed' ],
    [ Delete => './Vendor/Acme/Old', {}, 404, 'failed' ],
    [ Exec => './Vendor/Acme/Reboot', { correlator => 'job-42' }, 202, 'done' ],
    [ Replace => './Vendor/Acme/Prov', { format => 'xml', data => $prov }, 200, 'done' ],
    [ Replace => './Vendor/Acme/Special',
      { format => 'chr', type => 'text/plain', data => $special }, 200, 'done' ],
    # 240 KB that escaping grows to 640 KB: the answer leaves nginx in pieces
    [ Replace => './Vendor/Acme/Big', { format => 'chr', data => '<a&b> ' x 40000 },
      200, 'done' ],
);

my @cids = map {
    my ($verb, $target, $f) = @$_;
    $t->queue_command($id, { verb => $verb, target => $target, %$f });
} @cases;

$d->post($d->package1(cred => undef));
my $res = $d->post($d->package1);
my $r = $res->{syncml};
is(OmadmTest::Device::hdr_status($r)->{Data}, '212', 'authenticated');
my @cmds = OmadmTest::Device::commands($r);
is_deeply([ map { $_->{name} } @cmds ], [ map { $_->[0] } @cases[0 .. 6] ],
          'the seven small commands, in order');

# the device answers 200/200/418/404/202/200/200, with an XML Result
my %codes = map { ($_->[1] => $_->[3]) } @cases;
$res = $d->post($d->answer($r, codes => \%codes,
    tree => { './DevDetail/Ext/Conf' => encode('UTF-8', $result_xml) }));
$r = $res->{syncml};
is(OmadmTest::Device::hdr_status($r)->{Data}, '200', 'answers accepted');
my @big = OmadmTest::Device::commands($r);
is_deeply([ map { $_->{name} } @big ], [ 'Replace' ], 'then the big Replace alone');
is(($big[0]{items}[0] || {})->{size}, 240000, '... its Meta/Size the bytes of its data');
ok($r->{final}, '... all of it in this message (Final)');
push @cmds, @big;
$res = $d->post($d->answer($r, codes => \%codes));
ok($res->{syncml}{final} && !OmadmTest::Device::commands($res->{syncml}),
   'session ends');

# what the device received, field by field (Meta at command or item level)
for my $i (0 .. $#cases) {
    my ($verb, $target, $f) = @{ $cases[$i] };
    my $c = $cmds[$i] or next;
    my $what = "$verb $target";
    is(scalar @{ $c->{items} }, 1, "$what: one Item");
    my $item = $c->{items}[0] || {};
    my $meta = $c->{meta} || {};
    my %got = (
        target => $item->{target},
        format => $item->{format} // $meta->{Format},
        type => $item->{type} // $meta->{Type},
        data => $item->{data},
        correlator => $c->{Correlator},
    );
    my %want = (target => $target,
                map { ($_ => defined $f->{$_} ? encode('UTF-8', $f->{$_}) : undef) }
                qw(format type data correlator));
    is_deeply(\%got, \%want, "$what: exactly the queued Target, Meta, Data, Correlator");
}

for my $i (0 .. $#cases) {
    my ($verb, $target, $f, $code, $state) = @{ $cases[$i] };
    my $c = $t->get_command($id, $cids[$i]);
    is_deeply([ @$c{qw(state status)} ], [ $state, $code ],
              "operator API: $verb $target $state, status $code");
    is($c->{correlator}, $f->{correlator}, "operator API: $verb correlator as queued");
}
my $get = $t->get_command($id, $cids[0]);
is_deeply($get->{results}, [ { source => './DevDetail/Ext/Conf', format => 'chr',
                               type => 'text/plain', data => $result_xml } ],
          'Get: the XML Result comes back byte-exact');
is(scalar(grep { @{ $t->get_command($id, $_)->{results} } } @cids[1 .. $#cids]), 0,
   'no other command has results');

$t->check_error_log;
done_testing;
