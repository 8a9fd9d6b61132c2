import pytest
import torch

from seed_gan.gan import (
    Discriminator,
    Generator,
    discriminator_hinge_loss,
    ema_of,
    generator_hinge_loss,
)


@pytest.mark.parametrize("size", [32, 64])
def test_generator_shapes_and_range(size):
    torch.manual_seed(0)
    gen = Generator(4, size=size, width=8)
    images = gen(torch.randn(3, 128), torch.tensor([0, 1, 3]))
    assert images.shape == (3, 3, size, size)
    assert images.abs().max() <= 1
    disc = Discriminator(4, size=size, width=8)
    assert disc(images, torch.tensor([0, 1, 3])).shape == (3,)


def test_class_conditioning_changes_the_images():
    torch.manual_seed(0)
    gen = Generator(4, size=32, width=8)
    with torch.no_grad():  # make the per-class batch-norm parameters differ, as training does
        for module in gen.modules():
            if hasattr(module, "gamma"):
                module.gamma.weight.normal_(1, 0.5)
                module.beta.weight.normal_(0, 0.5)
    gen.eval()
    z = torch.randn(2, 128)
    same = gen(z, torch.tensor([1, 1]))
    other = gen(z, torch.tensor([2, 2]))
    assert not torch.allclose(same, other, atol=1e-3)
    assert torch.allclose(gen(z, torch.tensor([1, 1])), same)


def test_a_few_steps_train_both_networks_and_the_ema():
    torch.manual_seed(0)
    gen, disc = Generator(2, size=32, width=8), Discriminator(2, size=32, width=8)
    ema = ema_of(gen, decay=0.5)
    opt_g = torch.optim.Adam(gen.parameters(), 2e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), 2e-4, betas=(0.0, 0.9))
    real = torch.rand(8, 3, 32, 32) * 2 - 1
    y = torch.randint(0, 2, (8,))
    start = [p.detach().clone() for p in gen.parameters()]
    for _ in range(3):
        d_loss = discriminator_hinge_loss(disc(real, y), disc(gen.sample(y).detach(), y))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = generator_hinge_loss(disc(gen.sample(y), y))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        ema.update_parameters(gen)
    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    assert any(not torch.equal(a, b) for a, b in zip(start, gen.parameters()))
    assert ema.module(torch.randn(2, 128), torch.tensor([0, 1])).shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match="size"):
        Generator(2, size=48)


@pytest.mark.parametrize("augment", ["", "translation,cutout,color"])
def test_train_gan_runs_and_returns_an_eval_generator(augment):
    from seed_gan.gan import train_gan

    data = torch.utils.data.TensorDataset(torch.rand(12, 3, 32, 32) * 2 - 1, torch.arange(12) % 3)
    gen, history = train_gan(
        data, 3, size=32, width=8, steps=4, batch_size=4, progress=False, augment=augment
    )
    assert not gen.training and history[-1]["step"] == 4
    assert gen.sample(torch.tensor([0, 2])).shape == (2, 3, 32, 32)


def test_ema_warms_up_instead_of_keeping_the_initial_weights():
    gen = Generator(2, size=8, width=4)
    ema = ema_of(gen, decay=0.999)
    before = gen.linear.bias.detach().clone()
    with torch.no_grad():
        gen.linear.bias.add_(1.0)
    ema.update_parameters(gen)  # the first update copies; the average starts here
    with torch.no_grad():
        gen.linear.bias.add_(1.0)
    ema.update_parameters(gen)
    # warm-up decay 2/11: mostly the new weights (a plain 0.999 would stay near before + 1)
    assert torch.allclose(ema.module.linear.bias, before + 1 + 9 / 11, atol=1e-5)
