package OmadmTest::Browser;
# A real headless Chromium driven over the W3C WebDriver protocol
# (Debian's chromium + chromium-driver), with core Perl only: HTTP::Tiny and
# JSON::PP.  new() starts chromedriver on a free loopback port; stop() ends
# the browser session and chromedriver by PID.

use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use POSIX ();
use Time::HiRes qw(sleep time);

our $CHROMIUM = $ENV{CHROMIUM} // '/usr/bin/chromium';
our $DRIVER = $ENV{CHROMEDRIVER} // '/usr/bin/chromedriver';
my $ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

# Why the browser tests cannot run here, or undef when they can.
sub missing {
    return "$CHROMIUM not installed (make deps installs chromium)" unless -x $CHROMIUM;
    return "$DRIVER not installed (make deps installs chromium-driver)" unless -x $DRIVER;
    return undef;
}

# new(dir => test directory, port => free port, width, height)
sub new {
    my ($class, %o) = @_;
    my $self = bless { width => 1280, height => 800, %o }, $class;
    my $log = "$o{dir}/chromedriver.log";
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        exec $DRIVER, "--port=$o{port}", '--allowed-ips=127.0.0.1'
            or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    $self->{http} = HTTP::Tiny->new(timeout => 60);
    $self->{base} = "http://127.0.0.1:$o{port}";
    my $deadline = time + 15;
    until (($self->{http}->get("$self->{base}/status")->{status} // 0) == 200) {
        die "chromedriver did not start\n" if time > $deadline;
        sleep 0.1;
    }
    my @args = ('--headless=new', '--disable-gpu', '--no-first-run',
                '--disable-dev-shm-usage', '--disable-extensions',
                '--disable-background-networking', '--disable-sync',
                "--window-size=$self->{width},$self->{height}",
                "--user-data-dir=$o{dir}/chromium-profile");
    push @args, '--no-sandbox' if $> == 0;    # root has no user namespace sandbox
    my $r = $self->_call(POST => '/session', { capabilities => { alwaysMatch => {
        browserName => 'chrome', acceptInsecureCerts => JSON::PP::true,
        'goog:chromeOptions' => { binary => $CHROMIUM, args => \@args },
    } } });
    $self->{session} = $r->{sessionId} or die "no WebDriver session\n";
    return $self;
}

sub _call {
    my ($self, $method, $path, $body) = @_;
    my $r = $self->{http}->request($method, $self->{base} . $path, {
        headers => { 'Content-Type' => 'application/json' },
        content => encode_json($body // {}) });
    my $data = eval { decode_json($r->{content}) } // {};
    if ($r->{status} != 200) {
        my $v = $data->{value};
        die "WebDriver $method $path: $r->{status} "
            . (ref $v eq 'HASH' ? ($v->{error} // '') . ': ' . ($v->{message} // '') : $r->{content}) . "\n";
    }
    return $data->{value} // $data;
}

sub _s { my ($self, $method, $path, $body) = @_; $self->_call($method, "/session/$self->{session}$path", $body) }

sub get { my ($self, $url) = @_; $self->_s(POST => '/url', { url => $url }); $self }

# Runs a function body in the page: js('return document.title') -> value.
sub js { my ($self, $script, @args) = @_; $self->_s(POST => '/execute/sync', { script => $script, args => \@args }) }

# The first element matching a CSS selector, or undef.
sub find {
    my ($self, $css) = @_;
    my $all = $self->_s(POST => '/elements', { using => 'css selector', value => $css });
    return @$all ? $all->[0]{$ELEMENT} : undef;
}
sub count { my ($self, $css) = @_; scalar @{ $self->_s(POST => '/elements', { using => 'css selector', value => $css }) } }

# Waits (up to $secs) until $css matches; returns the element or dies.
sub wait_for {
    my ($self, $css, $secs) = @_;
    my $deadline = time + ($secs // 10);
    while (1) {
        my $e = eval { $self->find($css) };
        return $e if $e;
        die "timed out waiting for $css\n" . $self->diagnose if time > $deadline;
        sleep 0.1;
    }
}

# Waits until $cond->() is true; returns its value or undef after $secs.
sub wait_until {
    my ($self, $cond, $secs) = @_;
    my $deadline = time + ($secs // 10);
    while (time < $deadline) {
        my $v = eval { $cond->() };
        return $v if $v;
        sleep 0.2;
    }
    return undef;
}

sub text { my ($self, $css) = @_; my $e = $self->find($css) or return undef; $self->_s(GET => "/element/$e/text") }
# (again when the page replaced the element meanwhile: it polls)
sub click {
    my ($self, $css) = @_;
    for my $try (1 .. 5) {
        my $e = $self->wait_for($css);
        my $ok = eval { $self->_s(POST => "/element/$e/click"); 1 };
        return $self if $ok;
        die $@ unless $@ =~ /stale element/ && $try < 5;
    }
}
sub clear { my ($self, $css) = @_; my $e = $self->wait_for($css); $self->_s(POST => "/element/$e/clear"); $self }
sub type {
    my ($self, $css, $text) = @_;
    my $e = $self->wait_for($css);
    $self->_s(POST => "/element/$e/value", { text => $text });
    $self;
}
# Sets a <select>'s value and fires its change event.
sub select_value {
    my ($self, $css, $value) = @_;
    $self->wait_for($css);
    $self->js('const s = document.querySelector(arguments[0]); s.value = arguments[1];'
              . ' s.dispatchEvent(new Event("change"));', $css, $value);
    $self;
}

sub window_size {
    my ($self, $w, $h) = @_;
    $self->_s(POST => '/window/rect', { width => $w, height => $h });
    $self;
}

# Saves a PNG of the viewport to $file.
sub screenshot {
    my ($self, $file) = @_;
    my $png = decode_base64($self->_s(GET => '/screenshot'));
    open my $fh, '>:raw', $file or die "$file: $!\n";
    print $fh $png;
    close $fh;
    return $file;
}

# The browser's console messages since the last call (severe ones: CSP
# violations, script errors).
sub errors {
    my ($self) = @_;
    my $log = eval { $self->_s(POST => '/se/log', { type => 'browser' }) } || [];
    return grep { ($_->{level} // '') eq 'SEVERE' } @$log;
}

# What the page shows and what went wrong in it, for a failure message;
# also saves timeout.png in the test directory.
sub diagnose {
    my ($self) = @_;
    my $out = '';
    eval { $self->screenshot("$self->{dir}/timeout.png"); $out .= "screenshot $self->{dir}/timeout.png\n" };
    eval { $out .= 'url: ' . $self->js('return location.href') . "\n" };
    eval { $out .= 'main: ' . substr($self->js('return document.body.innerText'), 0, 800) . "\n" };
    eval { $out .= "browser: $_->{message}\n" for $self->errors };
    utf8::encode($out) if utf8::is_utf8($out);
    return $out;
}

# The processes started under $pid (chromedriver's browser), by PID.
sub _descendants {
    my ($pid) = @_;
    my %kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // next;
        my ($p, $pp) = $line =~ /^(\d+) \(.*\) \S+ (\d+)/s or next;
        push @{ $kids{$pp} }, $p;
    }
    my @all;
    my @todo = ($pid);
    while (defined(my $p = shift @todo)) {
        for my $k (@{ $kids{$p} || [] }) { push @all, $k; push @todo, $k }
    }
    return @all;
}

sub stop {
    my ($self) = @_;
    eval { $self->_s(DELETE => '') } if $self->{session};
    delete $self->{session};
    if (my $pid = delete $self->{pid}) {
        # a browser the session did not close goes with its driver
        my @browser = _descendants($pid);
        kill 'TERM', @browser if @browser;
        kill 'TERM', $pid;
        my $deadline = time + 5;
        while (time < $deadline) { last if waitpid($pid, POSIX::WNOHANG()) != 0; sleep 0.05 }
        if (kill 0, $pid) { kill 'KILL', $pid; waitpid($pid, 0) }
    }
}

sub DESTROY { local $?; $_[0]->stop }

1;
