import pytest

from mmengine.utils import digit_version, get_git_hash


def test_digit_version():
    assert digit_version('0.2.16') == (0, 2, 16, 0, 0, 0)
    assert digit_version('1.2.3') == (1, 2, 3, 0, 0, 0)
    assert digit_version('1.2.3rc0') == (1, 2, 3, 0, -1, 0)
    assert digit_version('1.2.3rc1') == (1, 2, 3, 0, -1, 1)
    assert digit_version('1.0rc0') == (1, 0, 0, 0, -1, 0)
    assert digit_version('1.0') == digit_version('1.0.0')
    assert digit_version('1.5.0+cuda90_cudnn7.6.3_lms') == digit_version(
        '1.5')
    assert digit_version('1.0.0dev') < digit_version('1.0.0a')
    assert digit_version('1.0.0a') < digit_version('1.0.0a1')
    assert digit_version('1.0.0a') < digit_version('1.0.0b')
    assert digit_version('1.0.0b') < digit_version('1.0.0rc')
    assert digit_version('1.0.0rc1') < digit_version('1.0.0')
    assert digit_version('1.0.0') < digit_version('1.0.0post')
    assert digit_version('1.0.0post') < digit_version('1.0.0post1')
    assert digit_version('v1') == (1, 0, 0, 0, 0, 0)
    assert digit_version('1.2.3.4.5') == (1, 2, 3, 4, 0, 0)
    assert digit_version('1.2', length=2) == (1, 2, 0, 0)
    assert digit_version('2.13.0+cpu') > digit_version('2.1.0')
    with pytest.raises(ValueError, match='abc'):
        digit_version('abc')
    with pytest.raises(TypeError, match='str'):
        digit_version(1.0)


def test_get_git_hash(tmp_path, monkeypatch):
    sha = get_git_hash()
    assert isinstance(sha, str)
    # outside a repository: the fallback
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('GIT_CEILING_DIRECTORIES', str(tmp_path.parent))
    assert get_git_hash(fallback='none') in ('none', )
    assert get_git_hash(fallback='fb', digits=3) in ('fb', )
    with pytest.raises(TypeError, match='digits'):
        get_git_hash(digits='7')
