import io
import logging
import os
import re
import socket
import subprocess
import sys
import textwrap

import pytest

from mmengine.logging import MMLogger, print_log

STREAM_TIME = r'\d{2}/\d{2} \d{2}:\d{2}:\d{2}'
FILE_TIME = r'\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}'


@pytest.fixture(autouse=True)
def restore_loggers():
    """Close and forget the loggers a test creates."""
    saved = MMLogger._instance_dict.copy()
    yield
    for name, logger in list(MMLogger._instance_dict.items()):
        if saved.get(name) is not logger:
            for handler in logger.handlers:
                handler.close()
    MMLogger._instance_dict.clear()
    MMLogger._instance_dict.update(saved)


def test_console_format_and_name(capsys):
    logger = MMLogger.get_instance('t_console', log_level='INFO')
    assert isinstance(logger, logging.Logger)
    assert logger.name == 'mmengine'
    assert logger.instance_name == 't_console'
    logger.info('this is a test')
    logger.debug('hidden')
    out = capsys.readouterr().out
    assert re.fullmatch(STREAM_TIME + ' - mmengine - INFO - this is a test\n',
                        out), out
    other = MMLogger.get_instance('t_console2', logger_name='mmdet')
    other.warning('careful')
    assert ' - mmdet - WARNING - careful\n' in capsys.readouterr().out


def test_error_shows_source_location(capsys):
    logger = MMLogger.get_instance('t_error')
    logger.error('division by zero')
    line = sys._getframe().f_lineno - 1
    out = capsys.readouterr().out
    expected = (f' - mmengine - ERROR - {re.escape(__file__)} - '
                f'test_error_shows_source_location - {line} - '
                'division by zero\n')
    assert re.fullmatch(STREAM_TIME + expected, out), out


def test_file_is_plain_text_and_colours_only_on_a_terminal(
        tmp_path, monkeypatch):

    class Terminal(io.StringIO):

        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, 'stdout', terminal)
    monkeypatch.delenv('NO_COLOR', raising=False)
    log_file = tmp_path / 'sub' / 'run.log'  # missing folder is created
    logger = MMLogger.get_instance('t_file', log_file=log_file)
    assert logger.log_file == str(log_file)
    logger.warning('yellow')
    logger.error('red')
    logger.info('plain')
    for handler in logger.handlers:
        handler.flush()
    console = terminal.getvalue()
    assert '\033[33mWARNING\033[0m' in console
    assert '\033[31mERROR\033[0m' in console
    assert ' - mmengine - INFO - plain' in console
    text = log_file.read_text()
    assert '\033' not in text
    lines = text.splitlines()
    assert re.fullmatch(FILE_TIME + ' - mmengine - WARNING - yellow',
                        lines[0])
    assert re.fullmatch(
        FILE_TIME + r' - mmengine - ERROR - .+ - '
        r'test_file_is_plain_text_and_colours_only_on_a_terminal - \d+ - red',
        lines[1])
    assert re.fullmatch(FILE_TIME + ' - mmengine - INFO - plain', lines[2])


def test_file_mode(tmp_path):
    log_file = tmp_path / 'mode.log'
    log_file.write_text('old line\n')
    logger = MMLogger('t_mode_a', log_file=log_file, file_mode='a')
    logger.info('appended')
    logger.handlers[-1].close()
    assert log_file.read_text().startswith('old line\n')
    assert 'appended' in log_file.read_text()
    logger = MMLogger('t_mode_w', log_file=log_file)
    logger.info('fresh')
    logger.handlers[-1].close()
    text = log_file.read_text()
    assert 'old line' not in text and 'fresh' in text


def test_log_level_filters_handlers(tmp_path, capsys):
    log_file = tmp_path / 'level.log'
    logger = MMLogger.get_instance(
        't_level', log_level=logging.WARNING, log_file=log_file)
    assert logger.level == logging.NOTSET
    assert [h.level for h in logger.handlers] == [logging.WARNING] * 2
    logger.info('quiet')
    logger.warning('loud')
    logger.handlers[-1].flush()
    assert 'quiet' not in capsys.readouterr().out
    assert 'loud' in log_file.read_text()
    assert 'quiet' not in log_file.read_text()
    debug = MMLogger.get_instance('t_level_debug', log_level='debug')
    debug.debug('details')
    assert 'DEBUG - details' in capsys.readouterr().out


def test_set_level(capsys):
    logger = MMLogger.get_instance('t_set_level')
    logger.info('one')
    assert 'one' in capsys.readouterr().out
    logger.setLevel('WARNING')
    logger.info('two')
    assert capsys.readouterr().out == ''
    logger.setLevel(logging.INFO)
    logger.info('three')
    assert 'three' in capsys.readouterr().out


def test_repeated_warnings_are_shown_once(capsys):
    logger = MMLogger.get_instance('t_filter')
    logger.warning('hello')
    assert 'WARNING' in capsys.readouterr().out
    logger.warning('hello')
    assert capsys.readouterr().out == ''
    logger.warning('hello %s', 'again')
    assert 'hello again' in capsys.readouterr().out
    logger.info('hello')
    logger.info('hello')
    assert capsys.readouterr().out.count('hello') == 2


def test_does_not_propagate_to_root(capsys):
    records = []

    class Collect(logging.Handler):

        def emit(self, record):
            records.append(record)

    root_handler = Collect()
    logging.getLogger().addHandler(root_handler)
    try:
        logger = MMLogger.get_instance('t_propagate')
        logger.info('only mine')
    finally:
        logging.getLogger().removeHandler(root_handler)
    assert logger.parent is None and not logger.propagate
    assert records == []
    assert 'only mine' in capsys.readouterr().out


def test_get_instance_and_current_instance():
    MMLogger._instance_dict.clear()
    default = MMLogger.get_current_instance()
    assert default.instance_name == 'mmengine'
    logger = MMLogger.get_instance('t_instances')
    assert MMLogger.get_current_instance() is logger
    assert MMLogger.get_instance('t_instances') is logger
    with pytest.warns(UserWarning, match='has been created'):
        assert MMLogger.get_instance('t_instances',
                                     log_level='DEBUG') is logger


def test_file_handler_cfg(tmp_path):
    log_file = tmp_path / 'rot.log'
    logger = MMLogger(
        't_rot',
        log_file=log_file,
        file_handler_cfg=dict(
            type='RotatingFileHandler', maxBytes=1024, backupCount=1))
    handler = logger.handlers[-1]
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    assert handler.maxBytes == 1024
    handler.close()
    logger = MMLogger(
        't_timed',
        log_file=log_file,
        file_handler_cfg=dict(type='TimedRotatingFileHandler', when='D'))
    assert isinstance(logger.handlers[-1],
                      logging.handlers.TimedRotatingFileHandler)
    logger.handlers[-1].close()


def test_constructor_errors(tmp_path):
    with pytest.raises(ValueError, match="Unknown log_level 'LOUD'"):
        MMLogger('t_bad', log_level='LOUD')
    with pytest.raises(TypeError, match='log_level must be'):
        MMLogger('t_bad', log_level=1.5)
    with pytest.raises(ValueError, match='file_mode'):
        MMLogger('t_bad', log_file=tmp_path / 'x.log', file_mode='r')
    with pytest.raises(ValueError, match='RotatingFileHandler'):
        MMLogger(
            't_bad',
            log_file=tmp_path / 'x.log',
            file_handler_cfg=dict(type='NoSuchHandler'))
    with pytest.raises(TypeError, match='file_handler_cfg must be a dict'):
        MMLogger('t_bad', file_handler_cfg='FileHandler')
    with pytest.raises(TypeError, match='log_file must be a str.*got int'):
        MMLogger.get_instance('t_bad', log_file=5)
    with pytest.raises(TypeError, match='logger_name must be a str'):
        MMLogger.get_instance('t_bad', logger_name=3)
    assert not MMLogger.check_instance_created('t_bad')


def test_print_log(capsys):
    print_log('to print')
    assert capsys.readouterr().out == 'to print\n'
    print_log('nothing', logger='silent')
    assert capsys.readouterr().out == ''
    logger = MMLogger.get_instance('t_print_log')
    print_log('by instance', logger=logger)
    print_log('by name', logger='t_print_log', level='WARNING')
    print_log('current', logger='current', level=logging.ERROR)
    line = sys._getframe().f_lineno - 1
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(STREAM_TIME + ' - mmengine - INFO - by instance',
                        out[0])
    assert out[1].endswith(' - mmengine - WARNING - by name')
    # ERROR location is the caller of print_log, not print_log itself.
    assert out[2].endswith(f'{__file__} - test_print_log - {line} - current')
    plain = logging.getLogger('t_plain_logger')
    records = []
    plain.addHandler(logging.Handler())
    plain.handlers[0].emit = records.append
    print_log('to std logger', logger=plain, level=logging.WARNING)
    assert records[0].getMessage() == 'to std logger'


def test_print_log_errors():
    with pytest.raises(TypeError, match='got type'):
        print_log('x', logger=dict)
    with pytest.raises(TypeError, match='got int'):
        print_log('x', logger=3)
    with pytest.raises(ValueError, match="no MMLogger named 'unknown'"):
        print_log('x', logger='unknown')
    MMLogger.get_instance('t_print_log_level')
    with pytest.raises(ValueError, match="Unknown level 'LOUD'"):
        print_log('x', logger='t_print_log_level', level='LOUD')


def test_import_is_light(tmp_path):
    # Importing the package, and logging to the console and a file, pulls
    # in neither torch, numpy nor rich.
    code = textwrap.dedent('''
        import sys, mmengine.logging
        heavy = ('torch', 'rich', 'numpy', 'yaml')
        print(sorted(m for m in heavy if m in sys.modules))
        from mmengine.logging import MMLogger, print_log
        logger = MMLogger.get_instance('light', log_file=sys.argv[1])
        print_log('hello', logger='current')
        logger.error('oops')
        print(sorted(m for m in heavy if m in sys.modules))
    ''')
    out = subprocess.run([sys.executable, '-c', code,
                          str(tmp_path / 'light.log')],
                         capture_output=True,
                         text=True,
                         check=True).stdout.splitlines()
    assert out[0] == '[]' and out[-1] == '[]', out
    assert 'hello' in (tmp_path / 'light.log').read_text()


_DIST_CHILD = textwrap.dedent('''
    import os, sys
    import torch.distributed as dist
    from mmengine.logging import MMLogger
    rank, folder, port = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=2)
    shared = MMLogger.get_instance(
        'shared', log_file=os.path.join(folder, 'shared.log'))
    per_rank = MMLogger.get_instance(
        'per_rank', log_file=os.path.join(folder, 'run.log'),
        distributed=True)
    debug = MMLogger.get_instance(
        'debug', log_file=os.path.join(folder, 'debug.log'),
        log_level='DEBUG')
    for logger in (shared, per_rank, debug):
        logger.debug(f'debug from rank {rank}')
        logger.info(f'info from rank {rank}')
        logger.error(f'error from rank {rank}')
    dist.barrier()
    dist.destroy_process_group()
''')


def test_distributed_ranks(tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    env = dict(os.environ, LOCAL_RANK='0', CUDA_VISIBLE_DEVICES='')
    procs = []
    for rank in (0, 1):
        procs.append(
            subprocess.Popen(
                [
                    sys.executable, '-c', _DIST_CHILD,
                    str(rank),
                    str(tmp_path),
                    str(port)
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=dict(env, LOCAL_RANK=str(rank))))
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outs.append(out)
    # Rank 0 prints everything at its level; rank 1 prints only errors.
    assert outs[0].count('info from rank 0') == 3
    assert outs[0].count('error from rank 0') == 3
    assert outs[0].count('debug from rank 0') == 1
    assert 'info from rank 1' not in outs[1]
    assert 'debug from rank 1' not in outs[1]
    assert outs[1].count('error from rank 1') == 3
    host = socket.gethostname()
    files = sorted(os.listdir(tmp_path))
    # distributed=True or log_level='DEBUG': one file per rank; otherwise
    # only rank 0 writes the given file.
    assert files == sorted([
        'shared.log', f'run_{host}_device0_rank0.log',
        f'run_{host}_device1_rank1.log', f'debug_{host}_device0_rank0.log',
        f'debug_{host}_device1_rank1.log'
    ])
    shared = (tmp_path / 'shared.log').read_text()
    assert 'rank 0' in shared and 'rank 1' not in shared
    for stem, levels in (('run', ('info', 'error')),
                         ('debug', ('debug', 'info', 'error'))):
        for rank in (0, 1):
            text = (tmp_path /
                    f'{stem}_{host}_device{rank}_rank{rank}.log').read_text()
            assert '\033' not in text
            lines = text.splitlines()
            assert [line.split(' - ')[2] for line in lines
                    ] == [level.upper() for level in levels]
            assert all(
                line.endswith(f'from rank {rank}') for line in lines)


_PTY_CHILD = textwrap.dedent('''
    import sys
    from mmengine.logging import MMLogger
    assert sys.stdout.isatty()
    logger = MMLogger.get_instance('pty', log_file=sys.argv[1])
    logger.info('plain')
    logger.warning('yellow')
    logger.error('red')
''')


@pytest.mark.skipif(sys.platform == 'win32', reason='needs a pseudo-tty')
def test_real_terminal_gets_colours_file_stays_plain(tmp_path):
    import pty
    master, slave = pty.openpty()
    env = dict(os.environ)
    env.pop('NO_COLOR', None)
    log_file = tmp_path / 'pty.log'
    proc = subprocess.Popen([sys.executable, '-c', _PTY_CHILD,
                             str(log_file)],
                            stdout=slave,
                            stderr=subprocess.PIPE,
                            env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    console = b''.join(chunks).decode()
    assert '\033[33mWARNING\033[0m - yellow' in console
    assert '\033[31mERROR\033[0m' in console
    text = log_file.read_text()
    assert '\033' not in text
    assert [line.split(' - ')[2] for line in text.splitlines()
            ] == ['INFO', 'WARNING', 'ERROR']
